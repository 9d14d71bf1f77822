import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Find changes made outside tollgate, or sign an acknowledgement of them.",
        subcommands: [DriftCheckCommand.self, DriftAckCommand.self],
        defaultSubcommand: DriftCheckCommand.self
    )
}

struct DriftCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Refresh the environment's last-good release and report drifted resources (exit 2 on drift).",
        discussion: "Every result is recorded. While drift is unacknowledged, an approval environment refuses to apply."
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "The environment to check.")
    var env: String

    @Option(help: "Only this stack (repeatable); default: every stack.")
    var stack: [String] = []

    struct Report: Encodable {
        var env: String
        var drifted: Bool
        var runs: [DriftDetector.Run]
    }

    func run() async throws {
        try await Composition.run(options) { context in
            let runs = try await DriftDetector(context: context).detect(env: env, stacks: stack)
            let drifted = runs.contains { $0.report?.hasDrift == true }
            if options.format == .json {
                Output.json(Report(env: env, drifted: drifted, runs: runs))
            } else {
                for run in runs { Output.line(Self.render(run, env: env)) }
            }
            if drifted { throw ExitCode(Output.Code.drift) }
        }
    }

    static func render(_ run: DriftDetector.Run, env: String) -> String {
        guard let report = run.report else { return "\(env)/\(run.stack): skipped, \(run.skipped ?? "not checked")" }
        guard report.hasDrift else { return "\(env)/\(run.stack): no drift (release \(Digest.short(report.releaseID)), run \(report.id))" }
        var lines = ["\(env)/\(run.stack): \(report.resources.count) resource\(report.resources.count == 1 ? "" : "s") drifted (release \(Digest.short(report.releaseID)), run \(report.id))"]
        for resource in report.resources {
            switch resource.kind {
            case .deleted: lines.append("  \(resource.address): deleted outside tollgate")
            case .changed:
                lines.append("  \(resource.address): changed outside tollgate")
                for attribute in resource.attributes {
                    lines.append("    \(attribute.path): \(attribute.recorded ?? "(absent)") → \(attribute.actual ?? "(absent)")")
                }
            }
        }
        lines.append("  acknowledge it: tollgate drift ack \(env) \(run.stack) --key KEY --comment TEXT, or apply a plan that reconciles it")
        return lines.joined(separator: "\n")
    }
}

struct DriftAckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Sign an acknowledgement of the open drift of one environment and stack."
    )

    @OptionGroup var options: GlobalOptions

    @Argument(help: "The environment.")
    var env: String

    @Argument(help: "The stack.")
    var stack: String

    @Option(help: "Your SSH private key (its public key must be in allowed_signers; in an approval environment, an approver's).")
    var key: String

    @Option(help: "Why the drift is accepted, for the record.")
    var comment: String

    func run() async throws {
        try await Composition.run(options, needsEngine: false) { context in
            let acknowledgement = try await DriftDetector(context: context).acknowledge(env: env, stack: stack, keyPath: PathResolution.absolute(key),
                                                                                      comment: comment)
            if options.format == .json {
                Output.json(acknowledgement)
            } else {
                Output.line("\(acknowledgement.principal) acknowledged drift \(acknowledgement.driftID) of \(env)/\(stack) (\(acknowledgement.id))")
            }
        }
    }
}
