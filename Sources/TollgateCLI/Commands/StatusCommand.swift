import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct StatusCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the environment × stack matrix: applied releases, waiting plans, locks."
    )

    @OptionGroup var options: GlobalOptions

    static let needs = CompositionNeeds.reading

    func run(_ context: Context) async throws {
        let report = try await StatusReport.build(context)
        if options.format == .json {
            Output.json(report)
            return
        }
        let rows = report.cells.map { cell -> [String] in
            let applied = cell.applied.map { "\(Digest.short($0.release)) #\($0.sequence)" } ?? "-"
            let waiting = cell.waiting.map { plan in
                plan.required > 0 ? "\(plan.plan) (\(plan.approvals)/\(plan.required) approvals)" : plan.plan
            } ?? "-"
            var lock = "-"
            if let held = cell.lock {
                lock = held.holderGone ? "\(held.holder) (lease expired at \(Timestamp.text(held.expiresAt)): holder gone, run 'tollgate unlock')"
                    : "\(held.holder) (lease until \(Timestamp.text(held.expiresAt)))"
            }
            let problem = cell.lastProblem.map { "last apply \($0.outcome)" } ?? ""
            return [cell.env, cell.stack, applied, waiting, lock, cell.governance.text, problem]
        }
        Output.line(Table.render(header: ["env", "stack", "applied", "waiting", "lock", "governance", "note"], rows: rows))
        for entry in report.breakGlass {
            let record = entry.record
            let state = entry.needsReview ? "needs post-hoc review: tollgate review \(record.id) --key KEY" : "reviewed by \(entry.reviewedBy.joined(separator: ", "))"
            Output.line("break-glass \(record.id): \(Digest.short(record.releaseID)) to \(record.env) by \(record.actor) (\(record.reason)); \(state)")
        }
    }
}
