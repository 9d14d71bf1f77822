import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct ShowCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a plan for review: destructive changes first, then its gates and approvals."
    )

    enum Format: String, CommandFormat {
        case text, json, markdown
        static let help = "Output format: text, json or markdown (a pull-request comment)."
    }

    @OptionGroup var options: CommandOptions<Format>

    @Argument(help: "The plan ids (several make one review, such as every stack of a release in one environment).")
    var plans: [String]

    struct Review: Encodable {
        var plan: PlanRecord
        var release: Release
        var gates: GateDecision
        /// Each approval and rejection as signed: its payload and SSH signature, to verify by hand
        /// with `ssh-keygen -Y verify` (docs/approvals.md).
        var approvals: [ApprovalRecord]
    }

    static let needs = CompositionNeeds.reading

    func run(_ context: Context) async throws {
        var reviews: [Review] = []
        for reference in plans {
            let record = try await context.plan(reference)
            let release = try await context.release(record.releaseID)
            reviews.append(Review(plan: record, release: release, gates: try await Applier(context: context).gates(record, release: release),
                                  approvals: try await context.ledger.approvals(planID: record.id)))
        }
        switch options.format {
        // One plan is its review object; several are a list of them under "reviews".
        case .json: if reviews.count == 1 { Output.json(reviews[0]) } else { Output.json(reviews, key: "reviews") }
        case .text:
            let colour = Output.colours(noColor: options.noColor)
            Output.line(reviews.map { render($0.plan, $0.release, $0.gates, colour: colour) }.joined(separator: "\n\n"))
        case .markdown: Output.line(ReviewMarkdown(statefulTypes: Set(context.pipeline.statefulTypes)).render(reviews.map { ReviewMarkdown.Entry(plan: $0.plan, release: $0.release, gates: $0.gates) }))
        }
    }

    /// The text view; with `colour`, additions are green, removals and destruction red, changes yellow.
    func render(_ plan: PlanRecord, _ release: Release, _ gates: GateDecision, colour: Bool = false) -> String {
        var lines: [String] = []
        lines.append("plan \(plan.id): \(plan.env)/\(plan.stack) (\(plan.status.rawValue))")
        lines.append("")
        lines += Self.governance(gates)
        let summary = plan.summary
        if !summary.blockers.isEmpty {
            lines.append("NOT APPLICABLE: the engine's verdict on this plan")
            lines += summary.blockers.map { "  \($0)" }
            lines.append("")
        }
        let reasons = summary.reasonsInWords
        func because(_ address: String) -> String { reasons[address].map { " (\($0))" } ?? "" }
        // Each resource line is followed by the attributes it changes, in the plain +/-/~ form.
        let diffs = summary.diffsByAddress
        func changed(_ verb: String, _ address: String) -> [String] {
            ["  \(verb.padding(toLength: 8, withPad: " ", startingAt: 0)) \(address)\(because(address))"]
                + (diffs[address]?.lines ?? []).map { line in
                    let paint: Output.Colour? = switch line.first {
                    case "+": .green
                    case "-": .red
                    case "~": .yellow
                    default: nil
                    }
                    return "             " + (paint?.paint(line, when: colour) ?? line)
                }
        }
        if !summary.destructive.isEmpty {
            lines.append(Output.Colour.red.paint("DESTRUCTIVE: \(summary.destructive.count) resource\(summary.destructive.count == 1 ? "" : "s") destroyed or replaced",
                                                 when: colour))
            lines += summary.delete.flatMap { changed("delete", $0) } + summary.replace.flatMap { changed("replace", $0) }
            lines.append("")
        }
        lines.append("changes: \(plan.hasChanges ? summary.counts : "none")")
        lines += summary.create.flatMap { changed("create", $0) } + summary.update.flatMap { changed("update", $0) }
        lines += summary.read.map { "  read     \($0)\(because($0))" } + summary.forget.map { "  forget   \($0)" }
        lines += summary.otherLines.map { "  \($0)" }
        if !summary.checks.isEmpty {
            lines.append("  conditions that did not pass:")
            lines += summary.checks.map { "    \($0.status) \($0.address)" + ($0.problems.isEmpty ? "" : ": " + $0.problems.joined(separator: "; ")) }
        }
        if !summary.outputChanges.isEmpty { lines.append("  outputs: \(summary.outputChanges.joined(separator: ", "))") }
        if !summary.drifted.isEmpty { lines.append("  drifted since last apply: \(summary.drifted.joined(separator: ", "))") }
        if !plan.checks.isEmpty {
            lines.append("")
            lines.append("checks: " + plan.checks.map { "\($0.name) \($0.status.rawValue)" }.joined(separator: ", "))
        }
        lines.append("")
        lines.append("provenance")
        lines.append("  release  \(release.id)")
        lines.append("  commit   \(release.commit)\(release.pr.map { " (PR #\($0))" } ?? "") by \(release.author)")
        lines.append("  authors  \(gates.authors.joined(separator: ", "))" + (gates.authorshipVerified ? " (verified commit signatures)"
            : " (unverified: git author and committer emails; set require_signed_commits to verify them)"))
        lines.append("  digest   \(plan.digest)")
        lines.append("  planner  \(plan.planner), \(plan.engineKind) \(plan.engineVersion), state serial \(plan.priorSerial)")
        lines.append("")
        lines.append("gates: \(gates.allowed ? "all pass" : "\(gates.refusals.count) not met"), judged by \(gates.judgedBy)")
        lines += gates.approvedBy.map { "  approved by \($0)" }
        lines += gates.refusals.map { "  missing: \($0.message)" }
        lines += gates.ignored.map { "  not counted: \($0)" }
        return lines.joined(separator: "\n")
    }

    /// The loud part of the review: what a release changes in the governance that judges it.
    static func governance(_ gates: GateDecision) -> [String] {
        guard !gates.governanceChanges.isEmpty else { return [] }
        return ["GOVERNANCE CHANGE: this release changes who may change this environment, so it needs approval under the governance in force"]
            + gates.governanceChanges.map { "  \($0.description)" }
            + ["  judged by \(gates.judgedBy)", ""]
    }
}
