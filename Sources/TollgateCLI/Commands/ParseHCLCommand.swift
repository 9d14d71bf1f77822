import ArgumentParser
import Foundation
import HCL
import TollgateKit

/// `tollgate parse-hcl FILE|DIR…`: parse HCL files and report diagnostics and throughput.
///
/// A developer tool (hidden from help): the HCL benchmark and parser debugging use it.
struct ParseHCLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse-hcl",
        abstract: "Parse .tf, .tf.json and .tfvars files and report every diagnostic.",
        shouldDisplay: false
    )

    @Argument(help: "Files or directories (searched for .tf, .tf.json and .tfvars).")
    var paths: [String]

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        var files: [String] = []
        for path in paths.map(PathResolution.absolute) {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("no file or directory at '\(path)'")
            }
            if isDirectory.boolValue {
                files += DirectoryWalk.subpaths(of: path)
                    .filter { $0.hasSuffix(".tf") || $0.hasSuffix(".tf.json") || $0.hasSuffix(".tfvars") }.sorted().map { path + "/" + $0 }
            } else {
                files.append(path)
            }
        }
        let contents = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let clock = ContinuousClock()
        var diagnostics: [(String, HCLDiagnostic)] = []
        var items = 0
        let elapsed = clock.measure {
            for (file, data) in zip(files, contents) {
                let parsed = file.hasSuffix(".tf.json") ? HCLJSON.parse(bytes: Array(data)) : HCLParser.parse(bytes: Array(data))
                items += parsed.body.items.count
                diagnostics += parsed.diagnostics.map { (file, $0) }
            }
        }
        let bytes = contents.reduce(0) { $0 + $1.count }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if format == .json {
            struct Report: Encodable {
                var files: Int
                var bytes: Int
                var seconds: Double
                var diagnostics: [String]
            }
            Output.json(Report(files: files.count, bytes: bytes, seconds: seconds, diagnostics: diagnostics.map { "\($0.0):\($0.1)" }))
        } else {
            for (file, diagnostic) in diagnostics { Output.diagnostic("\(file):\(diagnostic)") }
            Output.line("\(files.count) files, \(bytes) bytes, \(items) top-level items, \(diagnostics.count) diagnostics in \(String(format: "%.3f", seconds)) s")
        }
        if !diagnostics.isEmpty { throw ExitCode(Output.Code.error) }
    }
}
