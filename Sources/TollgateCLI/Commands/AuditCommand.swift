import ArgumentParser
import Foundation
import TollgateCore
import TollgateEngine
import TollgateKit

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the hash-chained audit log and trace applied changes to their origin.",
        subcommands: [Verify.self, Trace.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the audit chain, hold it against the anchors outside the ledger, and name the first bad event.",
            discussion: "The anchors are the ref refs/tollgate/audit-head and the Tollgate-Audit-Head trailer of every tollgate/* tag: a log that ends before one, or differs from it, fails. With --file, verify an export written by 'tollgate audit export' on its own, without the ledger or a tollgate.yaml: against its header, and against the anchors of the repository it is run in, if any."
        )

        @OptionGroup var options: GlobalOptions

        @Option(help: "Verify this export (JSON Lines from 'tollgate audit export') instead of the ledger.")
        var file: String?

        func run() async throws {
            if let file {
                let result: Auditor.Verification
                do {
                    let anchors = try await Self.anchors(in: FileManager.default.currentDirectoryPath)
                    result = try Auditor.verify(exportAt: PathResolution.absolute(file), anchors: anchors)
                } catch {
                    throw Output.fail(error, format: options.format)
                }
                try report(result)
                return
            }
            try await Composition.run(options, needsEngine: false, reads: true) { context in
                let anchors = try await Self.anchors(in: context.pipeline.baseDirectory)
                try report(try await Auditor(context: context).verify(anchors: anchors))
            }
        }

        /// The anchors of the repository around `directory`; none outside a repository.
        static func anchors(in directory: String) async throws -> [AuditAnchor] {
            do {
                return try await GitAuditAnchors(repository: directory, environment: ProcessInfo.processInfo.environment).anchors()
            } catch AuditAnchorError.notARepository {
                return []
            }
        }

        func report(_ result: Auditor.Verification) throws {
            for note in result.notes { Output.diagnostic("tollgate: warning: \(note)") }
            if options.format == .json {
                Output.json(result)
            } else {
                if result.intact {
                    Output.line("audit chain intact: \(result.events) events, head \(result.head ?? AuditChain.genesis)")
                } else {
                    Output.line("audit chain BROKEN at event \(result.firstBadEvent!): \(result.reason!)")
                }
                for anchor in result.anchors {
                    let status = switch anchor.status {
                    case .matches: "matches"
                    case .beyondTheLog: "beyond the end of the \(file == nil ? "log" : "export")"
                    case .hashDiffers: "its hash differs"
                    }
                    Output.line("anchor \(anchor.source) names event \(anchor.seq)\(anchor.writtenAt.map { " (written \($0))" } ?? ""): \(status)")
                }
                for flag in result.timeOrder { Output.line("out of time order: \(flag.message)") }
            }
            if !result.intact { throw ExitCode(Output.Code.error) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the whole audit log as JSON Lines, one hash-chained event per line, for an archive or a SIEM.",
            discussion: "The first line is a header naming the count and the head: {\"tollgate_audit_export\":1,\"events\":N,\"head\":\"HASH\",\"head_seq\":N}. Each line after it is a canonical JSON object: actor, hash, kind, payload, prev_hash, seq, subjects, time (milliseconds). 'tollgate audit verify --file' checks an export on its own."
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

    struct Trace: ContextCommand {
        static let configuration = CommandConfiguration(abstract: "Trace every applied change to its PR, commit, release, plan, approvers and outcome.")

        @OptionGroup var options: GlobalOptions

        @Option(help: "Only this environment.")
        var env: String?

        static let needs = CompositionNeeds.reading

        func run(_ context: Context) async throws {
            let traces = try await Auditor(context: context).trace(env: env)
            if options.format == .json {
                Output.json(traces, key: "traces")
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
                for line in Self.provenance(ci: trace.ci, mergedBy: trace.mergedBy) { Output.line(line) }
            }
        }

        /// Where an apply ran and how its release was found on the main branch, as recorded.
        static func provenance(ci: CIContext?, mergedBy: MergeProof?) -> [String] {
            var lines: [String] = []
            if let mergedBy { lines.append("  on main: \(mergedBy)") }
            if let ci {
                lines.append("  ci: \(ci.summary)")
                if let subject = ci.oidcSubject {
                    lines.append("  oidc subject: \(subject)\(ci.oidcIssuer.map { " (issuer \($0))" } ?? "") — read from the token, not verified")
                }
            }
            return lines
        }
    }
}
