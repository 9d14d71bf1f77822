import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the pipeline's design about this repository from live data: layout, stages, plan binding, rollback, divergence.",
        discussion: "Markdown draws the stages as a Mermaid block; HTML is one self-contained page (inline styles, the stages as inline SVG, no scripts, nothing fetched). Without --format, an --out file ending in .html or .htm gets HTML."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case markdown, html
    }

    @Option(help: "Path of the pipeline file.")
    var config: String?

    @Option(help: "Output format: markdown or html (default: from the --out file's extension, else markdown).")
    var format: Format?

    @Option(help: "Write the report to this file instead of stdout.")
    var out: String?

    /// The format asked for, else the one the output file's name implies.
    var resolvedFormat: Format {
        if let format { return format }
        let fileExtension = out.map { ($0 as NSString).pathExtension.lowercased() } ?? ""
        return ["html", "htm"].contains(fileExtension) ? .html : .markdown
    }

    func run() async throws {
        let options = try GlobalOptions.parse(config.map { ["--config", $0] } ?? [])
        let format = resolvedFormat
        try await Composition.run(options, needsEngine: false) { context in
            let document = try await PipelineReport(context: context).document()
            let text = format == .html ? document.html() : document.markdown()
            if let out {
                try PathResolution.write(text, to: out, option: "--out")
                Output.diagnostic("wrote \(out) (\(format.rawValue))")
            } else {
                Output.line(text)
            }
        }
    }
}
