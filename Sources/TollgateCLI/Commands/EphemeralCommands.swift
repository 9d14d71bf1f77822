import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct EphemeralCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ephemeral",
        abstract: "Bring up, test and destroy throw-away copies of an environment.",
        subcommands: [EphemeralUpCommand.self, EphemeralTestCommand.self, EphemeralDownCommand.self, EphemeralGCCommand.self,
                      EphemeralListCommand.self]
    )

    static func render(_ record: EphemeralRecord) -> String {
        var line = "\(record.name): \(record.status.rawValue), copy of \(record.like), release \(Digest.short(record.releaseID)), "
            + "expires \(ISO8601DateFormatter().string(from: record.expiresAt))"
        if let detail = record.detail { line += "\n  last failure: \(detail)" }
        for test in record.tests {
            line += "\n  \(test.passed ? "PASS" : "FAIL") \(test.name) (exit \(test.exitStatus))"
            if !test.passed, !test.output.isEmpty { line += "\n    " + test.output.split(separator: "\n").suffix(5).joined(separator: "\n    ") }
        }
        return line
    }

    static func show(_ record: EphemeralRecord, _ format: OutputFormat) {
        if format == .json { Output.json(record) } else { Output.line(render(record)) }
    }

    static func show(_ records: [EphemeralRecord], _ format: OutputFormat, none: String) {
        if format == .json {
            Output.json(records, key: "environments")
        } else if records.isEmpty {
            Output.line(none)
        } else {
            for record in records { Output.line(render(record)) }
        }
    }
}

struct EphemeralUpCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Apply a release as a copy of an environment, with its state where 'ephemeral.backend' puts {ephemeral}."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The copy's name (a-z, 0-9, '-', '_').")
    var name: String

    @Option(help: "The environment whose config, secrets and account the copy uses.")
    var like: String

    @Option(help: "The release to apply.")
    var release: String

    func run(_ context: Context) async throws {
        EphemeralCommand.show(try await EphemeralManager(context: context).up(name: name, like: like, release: release), options.format)
    }
}

struct EphemeralTestCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the 'ephemeral.tests' commands against a copy, with its outputs as TOLLGATE_OUTPUT_<STACK>_<NAME>."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The copy's name.")
    var name: String

    func run(_ context: Context) async throws {
        let record = try await EphemeralManager(context: context).test(name: name)
        EphemeralCommand.show(record, options.format)
        if !record.tests.allSatisfy(\.passed) { throw ExitCode(Output.Code.error) }
    }
}

struct EphemeralDownCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Destroy a copy, dependents first; it stays on the record as down."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The copy's name.")
    var name: String

    func run(_ context: Context) async throws {
        EphemeralCommand.show(try await EphemeralManager(context: context).down(name: name), options.format)
    }
}

struct EphemeralGCCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Destroy every copy past its TTL (exit 1 if one could not be destroyed)."
    )

    @OptionGroup var options: GlobalOptions

    func run(_ context: Context) async throws {
        let records = try await EphemeralManager(context: context).gc()
        EphemeralCommand.show(records, options.format, none: "no ephemeral environment is past its TTL")
        if records.contains(where: { $0.status != .down }) { throw ExitCode(Output.Code.error) }
    }
}

struct EphemeralListCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every copy on the record, with its status and expiry."
    )

    @OptionGroup var options: GlobalOptions

    static let needs = CompositionNeeds.ledger

    func run(_ context: Context) async throws {
        EphemeralCommand.show(try await EphemeralManager(context: context).list(), options.format, none: "no ephemeral environments")
    }
}
