import ArgumentParser
import Foundation
import HCL
import TollgateConfig
import TollgateCore
import TollgateKit
import TollgateLint

struct LintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Find environment-specific logic in code, unpinned modules, config gaps and isolation problems."
    )

    enum Format: String, ExpressibleByArgument {
        case text, json, sarif
    }

    @Argument(help: "The repository (default: the pipeline file's directory).")
    var path: String?

    @Option(help: "Output format: text, json or sarif.")
    var format: Format = .text

    @Option(help: "Path of the pipeline file.")
    var config: String?

    func run() async throws {
        let options = try GlobalOptions.with(config: config, json: format == .json)
        // `--config` names the pipeline file even when a repository is given; the files are read
        // from the repository, else from the pipeline file's directory.
        let root = path.map(PathResolution.absolute)
        let pipelinePath = config == nil ? root.map { $0 + "/tollgate.yaml" } ?? options.pipelinePath() : options.pipelinePath()
        let loaded = PipelineLoader.load(path: pipelinePath)
        guard let pipeline = loaded.pipeline else {
            for diagnostic in loaded.diagnostics { Output.diagnostic(diagnostic.description) }
            throw ExitCode(Output.Code.error)
        }
        let files = RepositoryFiles.read(pipeline: pipeline, root: root)
        let input = LintInput(pipeline: pipeline, files: files)
        var findings = Linter(input: input).run()
        // Isolation problems of the pipeline itself (overlapping backends, shared accounts).
        for diagnostic in loaded.diagnostics where diagnostic.code == .backendOverlap || diagnostic.code == .sharedDatabase {
            let position = HCLPosition(line: diagnostic.location?.line ?? 1, column: diagnostic.location?.column ?? 1, offset: 0)
            findings.append(Finding(rule: "backend-overlap", severity: .error, file: (pipelinePath as NSString).lastPathComponent,
                                    range: HCLRange(start: position, end: position), message: diagnostic.message))
        }
        switch format {
        case .json:
            Output.json(findings)
        case .sarif:
            let data = try JSONSerialization.data(withJSONObject: SARIF.report(findings, version: Tollgate.configuration.version),
                                                  options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        case .text:
            for finding in findings {
                Output.line("\(finding.location): \(finding.severity.rawValue) [\(finding.rule)] \(finding.message)")
            }
            let errors = findings.filter { $0.severity == .error }.count
            Output.diagnostic("\(files.count) files, \(findings.count) findings, \(errors) errors")
        }
        if findings.contains(where: { $0.severity == .error }) { throw ExitCode(Output.Code.error) }
    }
}
