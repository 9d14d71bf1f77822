import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the pipeline's design about this repository from live data: layout, stages, plan binding, rollback, divergence."
    )

    @Option(help: "Path of the pipeline file.")
    var config: String?

    @Option(help: "Write the report to this file instead of stdout.")
    var out: String?

    func run() async throws {
        let options = try GlobalOptions.parse(config.map { ["--config", $0] } ?? [])
        try await Composition.run(options, needsEngine: false) { context in
            let text = try await PipelineReport(context: context).markdown()
            if let out {
                do {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: PathResolution.absolute(out)))
                } catch {
                    throw KitError.fileSystem(path: out, reason: "\(error)")
                }
                Output.diagnostic("wrote \(out)")
            } else {
                Output.line(text)
            }
        }
    }
}
