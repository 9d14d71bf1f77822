import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

/// `tollgate checks PLAN…`: the stored check results of plans, for people and for CI.
///
/// A report, not a gate: it exits 0 even when checks failed (apply is what refuses), and 1 only
/// when a plan is unknown.
struct ChecksCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "checks",
        abstract: "Print the stored check results of plans as text, JSON or JUnit XML."
    )

    enum Format: String, CommandFormat {
        case text, json, junit
        static let help = "Output format: text, json or junit (one testsuite per plan, one testcase per check)."
    }

    @OptionGroup var options: CommandOptions<Format>

    @Argument(help: "The plan ids.")
    var plans: [String]

    struct Report: Encodable {
        var plan: String
        var env: String
        var stack: String
        var checks: [CheckResult]
    }

    static let needs = CompositionNeeds.ledger

    func run(_ context: Context) async throws {
        var records: [PlanRecord] = []
        for reference in plans { records.append(try await context.plan(reference)) }
        switch options.format {
        case .json: Output.json(records.map { Report(plan: $0.id, env: $0.env, stack: $0.stack, checks: $0.checks) }, key: "plans")
        case .junit: Output.line(JUnitReport.xml(records))
        case .text: Output.line(records.map(render).joined(separator: "\n\n"))
        }
    }

    func render(_ plan: PlanRecord) -> String {
        let counts = [CheckResult.Status.fail, .warn, .pass].map { status in "\(plan.checks.filter { $0.status == status }.count) \(status.rawValue)" }
        var lines = ["plan \(plan.id): \(plan.env)/\(plan.stack): " + (plan.checks.isEmpty ? "no checks" : counts.joined(separator: ", "))]
        for check in plan.checks {
            lines.append("  \(check.status.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(check.name)")
            lines += check.details.map { "        \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}
