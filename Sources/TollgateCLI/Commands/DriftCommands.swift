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

struct DriftCheckCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Plan the environment's last-good release and report drifted resources (exit 2 on open drift).",
        discussion: """
            Every result is recorded. --mode refresh (the default) runs a refresh-only plan: it finds what \
            changed in the real world under the recorded state, but cannot see the state itself changed (an \
            apply of other code, a state edit). --mode full runs a normal plan of the last-good release: any \
            change it would make is drift, whatever moved. While drift is open (neither acknowledged nor \
            reconciled by a later apply), an approval environment refuses plans made before it was found. \
            Drift already acknowledged, found again unchanged, stays acknowledged (exit 0).
            """
    )

    enum ModeOption: String, ExpressibleByArgument, CaseIterable {
        case refresh, full
    }

    @OptionGroup var options: GlobalOptions

    @Option(help: "The environment to check.")
    var env: String

    @Option(help: "Only this stack (repeatable); default: every stack.")
    var stack: [String] = []

    @Option(help: "refresh (a refresh-only plan: real-world changes) or full (a normal plan: any difference, state edits and outside applies included).")
    var mode: ModeOption = .refresh

    struct Report: Encodable {
        var env: String
        var mode: String
        var drifted: Bool
        /// Drift that is neither acknowledged nor reconciled.
        var open: Bool
        var runs: [DriftDetector.Run]
    }

    func run(_ context: Context) async throws {
        let chosen: DriftDetector.Mode = mode == .full ? .full : .refresh
        let runs = try await DriftDetector(context: context).detect(env: env, stacks: stack, mode: chosen)
        let drifted = runs.contains { $0.report?.hasDrift == true }
        let open = runs.contains { $0.open == true }
        if options.format == .json {
            Output.json(Report(env: env, mode: chosen.rawValue, drifted: drifted, open: open, runs: runs))
        } else {
            for run in runs { Output.line(Self.render(run, env: env)) }
        }
        if open { throw ExitCode(Output.Code.drift) }
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
            case .missing: lines.append("  \(resource.address): declared by the release, missing from the state")
            case .unexpected: lines.append("  \(resource.address): in the state, not declared by the release")
            }
        }
        if run.open == false {
            lines.append("  already acknowledged: the same drift was accepted before, so it does not block the gate")
        } else {
            lines.append("  acknowledge it: tollgate drift ack \(env) \(run.stack) --key KEY --comment TEXT, or plan again and apply that plan to reconcile it")
        }
        return lines.joined(separator: "\n")
    }
}

struct DriftAckCommand: ContextCommand {
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

    static let needs = CompositionNeeds.ledger

    func run(_ context: Context) async throws {
        let acknowledgement = try await DriftDetector(context: context).acknowledge(env: env, stack: stack, keyPath: PathResolution.absolute(key),
                                                                                  comment: comment)
        if options.format == .json {
            Output.json(acknowledgement)
        } else {
            Output.line("\(acknowledgement.principal) acknowledged drift \(acknowledgement.driftID) of \(env)/\(stack) (\(acknowledgement.id))")
        }
    }
}
