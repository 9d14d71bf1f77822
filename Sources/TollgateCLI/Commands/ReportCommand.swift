import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the pipeline's design about this repository from live data: layout, stages, plan binding, rollback, divergence.",
        discussion: "Markdown draws the stages as a Mermaid block; HTML is one self-contained page (inline styles, the stages as inline SVG, no scripts, nothing fetched); JSON holds each part as Markdown and every ranked divergence finding. Without --format, an --out file ending in .html or .htm gets HTML, one ending in .json gets JSON."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, html, json
    }

    /// The JSON rendering: each part's Markdown, and the ranking part (e) takes its top three from.
    struct JSONReport: Encodable {
        struct Section: Encodable {
            var heading: String
            var markdown: String
        }

        var title: String
        var sections: [Section]
        var divergence: DivergenceRanking
    }

    @Option(help: "Path of the pipeline file.")
    var config: String?

    @Option(help: "Output format: markdown, html or json (default: from the --out file's extension, else markdown).")
    var format: Format?

    @Option(help: "Write the report to this file instead of stdout.")
    var out: String?

    /// The format asked for, else the one the output file's name implies.
    var resolvedFormat: Format {
        if let format { return format }
        let fileExtension = out.map { ($0 as NSString).pathExtension.lowercased() } ?? ""
        if fileExtension == "json" { return .json }
        return ["html", "htm"].contains(fileExtension) ? .html : .markdown
    }

    func run() async throws {
        let format = resolvedFormat
        // Errors are JSON on stderr when the report is JSON, like every other command's.
        let options = try GlobalOptions.parse((config.map { ["--config", $0] } ?? []) + (format == .json ? ["--format", "json"] : []))
        try await Composition.run(options, needsEngine: false) { context in
            let (document, divergence) = try await PipelineReport(context: context).build(workingTree: RepositoryFiles.read(pipeline: context.pipeline))
            let text: String
            switch format {
            case .html: text = document.html()
            case .markdown: text = document.markdown()
            case .json:
                text = Output.jsonText(JSONReport(title: document.title, sections: document.sections().map { .init(heading: $0.heading, markdown: $0.markdown) },
                                                  divergence: divergence))
            }
            if let out {
                try PathResolution.write(text, to: out, option: "--out")
                Output.diagnostic("wrote \(out) (\(format.rawValue))")
            } else {
                Output.line(text)
            }
        }
    }
}
