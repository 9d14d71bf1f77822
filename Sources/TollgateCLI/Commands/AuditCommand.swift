import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the hash-chained audit log and trace applied changes to their origin.",
        subcommands: [Verify.self, Trace.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the audit chain and name the first bad event.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await Composition.run(options, needsEngine: false) { context in
                let result = try await Auditor(context: context).verify()
                if options.format == .json {
                    Output.json(result)
                } else if result.intact {
                    Output.line("audit chain intact: \(result.events) events, head \(result.head ?? AuditChain.genesis)")
                } else {
                    Output.line("audit chain BROKEN at event \(result.firstBadEvent!): \(result.reason!)")
                }
                if !result.intact { throw ExitCode(Output.Code.error) }
            }
        }
    }

    struct Trace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trace every applied change to its PR, commit, release, plan, approvers and outcome.")

        @OptionGroup var options: GlobalOptions

        @Option(help: "Only this environment.")
        var env: String?

        func run() async throws {
            try await Composition.run(options, needsEngine: false) { context in
                let traces = try await Auditor(context: context).trace(env: env)
                if options.format == .json {
                    Output.json(traces)
                    return
                }
                if traces.isEmpty { Output.line("no applies recorded\(env.map { " for '\($0)'" } ?? "")") }
                let formatter = ISO8601DateFormatter()
                for trace in traces {
                    Output.line("\(trace.env)/\(trace.stack)  \(trace.outcome)  \(formatter.string(from: trace.finishedAt ?? trace.startedAt))  apply \(trace.apply)")
                    Output.line("  PR \(trace.pr.map { "#\($0)" } ?? "-")  commit \(trace.commit.prefix(12))  author \(trace.author)")
                    Output.line("  release \(trace.release)")
                    Output.line("  plan \(trace.plan)  digest \(trace.planDigest)  planner \(trace.planner)")
                    for approver in trace.approvers {
                        Output.line("  \(approver.decision) by \(approver.principal): signature \(approver.signatureVerifies ? "verifies" : "DOES NOT VERIFY")")
                    }
                    if let detail = trace.detail { Output.line("  detail: \(detail)") }
                }
            }
        }
    }
}
