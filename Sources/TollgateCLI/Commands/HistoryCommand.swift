import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct HistoryCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List every apply to an environment in order, from the ledger or, when it has none, from the git tags.",
        discussion: """
            Recovery from tags only reads: nothing is written to the ledger, so its audit chain never gains invented entries.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "The environment whose history to list.")
    var env: String

    @Option(help: "Only this stack.")
    var stack: String?

    static let needs = CompositionNeeds.reading

    func run(_ context: Context) async throws {
        let report = try await HistoryReport.build(context, env: env, stack: stack)
        for warning in report.warnings { Output.diagnostic("tollgate: warning: \(warning)") }
        if options.format == .json {
            Output.json(report)
            return
        }
        let scope = stack.map { "'\(env)/\($0)'" } ?? "'\(env)'"
        if report.entries.isEmpty {
            Output.line("no applies to \(scope) recorded in the ledger or in git tags")
            return
        }
        if report.source == .tags {
            let count = report.entries.count
            Output.line("recovered from \(count) git tag\(count == 1 ? "" : "s"): the ledger has no record of these applies")
        }
        let formatter = ISO8601DateFormatter()
        for entry in report.entries {
            var head = "\(entry.env)/\(entry.stack)  \(entry.outcome)  \(formatter.string(from: entry.time))"
            if let tag = entry.tag { head += "  \(tag)" }
            if entry.lastGood { head += "  (last-good)" }
            Output.line(head)
            Output.line("  commit \(entry.commit.prefix(12))  PR \(entry.pr.map { "#\($0)" } ?? "-")\(entry.apply.map { "  apply \($0)" } ?? "")")
            Output.line("  release \(entry.release)")
            Output.line("  plan \(entry.plan)  digest \(entry.planDigest)")
            Output.line("  approved by \(entry.approvers.isEmpty ? "-" : entry.approvers.joined(separator: ", "))")
            if let detail = entry.detail { Output.line("  detail: \(detail)") }
            for line in AuditCommand.Trace.provenance(ci: entry.ci, mergedBy: entry.mergedBy) { Output.line(line) }
        }
    }
}
