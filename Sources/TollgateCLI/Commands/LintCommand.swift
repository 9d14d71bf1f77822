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

    enum Format: String, CommandFormat {
        case text, json, sarif
        static let help = "Output format: text, json or sarif."
    }

    @OptionGroup var options: CommandOptions<Format>

    @Argument(help: "The repository or Terraform directory (default: the pipeline file's directory, else this one).")
    var path: String?

    func run() async throws {
        // `--config` names the pipeline file even when a repository is given; the files are read
        // from the repository, else from the pipeline file's directory.
        let root = path.map(PathResolution.absolute)
        let pipelinePath = options.config == nil ? root.map { $0 + "/tollgate.yaml" } ?? options.pipelinePath() : options.pipelinePath()
        // No pipeline file (and none named): lint the directory as it is, under stated assumptions.
        if options.config == nil, !FileManager.default.fileExists(atPath: pipelinePath) {
            return try lintWithoutPipeline(root: root ?? FileManager.default.currentDirectoryPath)
        }
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
        try report(findings, files: files.count, discovery: nil)
    }

    /// Lints a directory with no pipeline file: every root module is a stack, and the
    /// environments are those of config/ or the ones 'tollgate assess' finds.
    func lintWithoutPipeline(root: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("no directory at '\(root)'; give the path of a directory of Terraform code")
        }
        let (files, directories) = RepositoryFiles.walk(root: root)
        guard files.keys.contains(where: { $0.hasSuffix(".tf") || $0.hasSuffix(".tf.json") }) else {
            throw ValidationError("'\(root)' holds no Terraform files (.tf or .tf.json) and no tollgate.yaml; give the directory of your Terraform code, or the pipeline file with --config")
        }
        let discovery = LintDiscovery.discover(files: files, directories: directories, rootName: (root as NSString).lastPathComponent)
        let findings = Linter(input: discovery.input(files: files)).run()
        try report(findings, files: files.count, discovery: discovery)
    }

    /// Prints the findings in the asked format and fails when any is an error. Without a pipeline
    /// file the output says what was assumed: on stderr for text, beside the findings in JSON
    /// (`{"assumptions": …, "findings": […]}`) and in the SARIF run's properties.
    func report(_ findings: [Finding], files: Int, discovery: LintDiscovery?) throws {
        struct Assumed: Encodable {
            var assumptions: LintDiscovery
            var findings: [Finding]
        }
        switch options.format {
        case .json:
            if let discovery { Output.json(Assumed(assumptions: discovery, findings: findings)) } else { Output.json(findings, key: "findings") }
        case .sarif:
            let data = try JSONSerialization.data(withJSONObject: SARIF.report(findings, version: Tollgate.configuration.version, discovery: discovery),
                                                  options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        case .text:
            if let discovery { Output.diagnostic("tollgate: " + discovery.summary) }
            for finding in findings {
                Output.line("\(finding.location): \(finding.severity.rawValue) [\(finding.rule)] \(finding.message)")
            }
            let errors = findings.filter { $0.severity == .error }.count
            Output.diagnostic("\(files) files, \(findings.count) findings, \(errors) errors")
        }
        if findings.contains(where: { $0.severity == .error }) { throw ExitCode(Output.Code.error) }
    }
}
