import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the hash-chained audit log and trace applied changes to their origin.",
        subcommands: [Verify.self, Trace.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the audit chain and name the first bad event.",
            discussion: "With --file, verify an export written by 'tollgate audit export' on its own, without the ledger or a tollgate.yaml."
        )

        @OptionGroup var options: GlobalOptions

        @Option(help: "Verify this export (JSON Lines from 'tollgate audit export') instead of the ledger.")
        var file: String?

        func run() async throws {
            if let file {
                let result: Auditor.Verification
                do {
                    result = try Auditor.verify(exportAt: PathResolution.absolute(file))
                } catch {
                    throw Output.fail(error, format: options.format)
                }
                try report(result)
                return
            }
            try await Composition.run(options, needsEngine: false) { context in
                try report(try await Auditor(context: context).verify())
            }
        }

        func report(_ result: Auditor.Verification) throws {
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

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the whole audit log as JSON Lines, one hash-chained event per line, for an archive or a SIEM.",
            discussion: "Each line is a canonical JSON object: actor, hash, kind, payload, prev_hash, seq, subjects, time (milliseconds). 'tollgate audit verify --file' checks an export on its own."
        )

        @Option(help: "Path of the pipeline file.")
        var config: String?

        @Option(help: "Write the export to this file instead of stdout.")
        var out: String?

        func run() async throws {
            let options = try GlobalOptions.parse(config.map { ["--config", $0] } ?? [])
            try await Composition.run(options, needsEngine: false) { context in
                let (text, count) = try await Auditor(context: context).export()
                guard let out else {
                    FileHandle.standardOutput.write(Data(text.utf8))
                    return
                }
                try PathResolution.write(text, to: out, option: "--out")
                Output.diagnostic("wrote \(count) events to \(out)")
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
