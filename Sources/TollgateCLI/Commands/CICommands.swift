import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct CICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ci",
        abstract: "Write the GitHub Actions or GitLab CI pipelines that tollgate.yaml implies, or check that they are in date.",
        discussion: "The generated files carry the digest of their own text, so a file changed by hand is named and not overwritten without --force. See docs/ci.md.",
        subcommands: [CIGitHubCommand.self, CIGitLabCommand.self, CICheckCommand.self]
    )
}

/// Where `ci github` and `ci gitlab` write, and whether they may overwrite.
struct CIWriteOptions: ParsableArguments {
    @Option(help: "The repository root to write under (default: the pipeline file's directory).")
    var out: String?

    @Flag(help: "Overwrite generated files that were changed by hand, and files tollgate did not write.")
    var force = false
}

struct CIGitHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "github",
        abstract: "Write the pull-request, main and apply workflows under DIR/.github/workflows/."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var writing: CIWriteOptions

    func run() async throws {
        try await CIGeneration(options: options, out: writing.out).write(.github, force: writing.force)
    }
}

struct CIGitLabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gitlab",
        abstract: "Write DIR/.gitlab/tollgate-ci.yml and a DIR/.gitlab-ci.yml that includes it."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var writing: CIWriteOptions

    func run() async throws {
        try await CIGeneration(options: options, out: writing.out).write(.gitlab, force: writing.force)
    }
}

struct CICheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Say whether the committed CI pipelines are in date with tollgate.yaml; exit 1 naming each one that is not."
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "The repository root the pipelines were written under (default: the pipeline file's directory).")
    var out: String?

    @Option(help: "Check only this CI system's files: github or gitlab (default: every one that has files).")
    var provider: CIProvider?

    func run() async throws {
        try await CIGeneration(options: options, out: out).check(provider)
    }
}

extension CIProvider: ExpressibleByArgument {}

/// What the `ci` commands share: the pipeline, where files go, and how each compares with what
/// the pipeline gives now.
struct CIGeneration {
    var options: GlobalOptions
    var out: String?

    struct Entry: Encodable {
        var provider: CIProvider
        var path: String
        var state: CIFileState
        /// What the command did: written, unchanged or kept; nil for `ci check`.
        var action: String?
    }

    struct Report: Encodable {
        var directory: String
        var in_date: Bool
        var files: [Entry]
    }

    /// The generator and the output directory, from the valid pipeline.
    func prepare() throws -> (generator: CIPipelineGenerator, directory: String) {
        let pipeline = try Composition(options: options).pipeline()
        let base = URL(fileURLWithPath: pipeline.baseDirectory).standardizedFileURL.path
        let directory = out.map { URL(fileURLWithPath: PathResolution.absolute($0)).standardizedFileURL.path } ?? base
        let relative: String
        if base == directory {
            relative = ""
        } else if base.hasPrefix(directory == "/" ? "/" : directory + "/") {
            relative = String(base.dropFirst(directory == "/" ? 1 : directory.count + 1))
        } else {
            throw CIError.outsideOutput(pipelineDirectory: base, output: directory)
        }
        return (CIPipelineGenerator(pipeline: pipeline, workingDirectory: relative), directory)
    }

    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    func write(_ provider: CIProvider, force: Bool) async throws {
        try await Output.guarded(options.format) {
            let (generator, directory) = try prepare()
            let files = try generator.files(provider)
            let states = files.map { CIFileState.judge(existing: Self.read(directory + "/" + $0.path), generated: $0) }
            let blocked = zip(files, states).filter { $1.needsForce }.map(\.0.path)
            if !blocked.isEmpty, !force { throw CIError.wouldOverwrite(blocked) }
            var entries: [Entry] = []
            for (file, state) in zip(files, states) {
                let action: String
                switch state {
                case .inDate: action = "unchanged"
                case .kept: action = "kept"
                default:
                    let path = directory + "/" + file.path
                    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try PathResolution.write(file.contents, to: path, option: "--out")
                    action = "written"
                }
                entries.append(Entry(provider: provider, path: file.path, state: state, action: action))
            }
            if options.format == .json {
                Output.json(Report(directory: directory, in_date: true, files: entries))
                return
            }
            for entry in entries {
                let note = switch (entry.action, entry.state) {
                case ("kept", _): " (your own file; it includes the generated one)"
                case ("written", .handEdited): " (over a hand edit, --force)"
                case ("written", .notGenerated): " (over a file tollgate did not write, --force)"
                default: ""
                }
                Output.line("\(entry.action ?? "") \(entry.path)\(note)")
            }
            let base = generator.pipeline.baseDirectory
            if !FileManager.default.fileExists(atPath: base + "/scripts/install-tollgate.sh") {
                Output.diagnostic("note: the jobs run scripts/install-tollgate.sh, which this repository does not have yet; "
                    + "commit one that puts tollgate and the engine on PATH (docs/ci.md)")
            }
        }
    }

    func check(_ only: CIProvider?) async throws {
        var report: Report?
        try await Output.guarded(options.format) {
            let (generator, directory) = try prepare()
            var entries: [Entry] = []
            for provider in only.map({ [$0] }) ?? CIProvider.allCases {
                let files = try generator.files(provider)
                let states = files.map { CIFileState.judge(existing: Self.read(directory + "/" + $0.path), generated: $0) }
                // A provider counts when one of its files is tollgate's; a user's own root alone does not.
                let present = zip(files, states).contains { $1 != .missing && ($1 != .notGenerated || $0.foreignIfContains == nil) && $1 != .kept }
                guard present || only != nil else { continue }
                entries += zip(files, states).map { Entry(provider: provider, path: $0.path, state: $1, action: nil) }
            }
            if entries.isEmpty { throw CIError.noPipelines(directory: directory) }
            report = Report(directory: directory, in_date: entries.allSatisfy(\.state.isInDate), files: entries)
        }
        guard let report else { return }
        if options.format == .json {
            Output.json(report)
        } else {
            for entry in report.files { Output.line("\(entry.state.rawValue)  \(entry.path)") }
        }
        if !report.in_date {
            let stale = report.files.filter { !$0.state.isInDate }.map { "'\($0.path)' (\($0.state.rawValue))" }
            if options.format == .text { _ = Output.fail(CIError.notInDate(stale), format: .text) }
            throw ExitCode(Output.Code.error)
        }
    }
}
