import ArgumentParser
import Foundation
import TollgateCore
import TollgateKit

struct RollbackCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Plan a rollback to the release an environment ran before, judge its risks and write a playbook.",
        discussion: """
            The rollback plans are normal plans: approve them through the environment's gate and apply \
            them with 'tollgate apply'. Recommendation: revert (stateless changes only), revert-with-care \
            (with the steps to take), forward-fix (with why), or nothing-to-roll-back. A stack whose \
            upstream's rollback changes outputs it reads gets a provisional plan, planned again once the \
            upstream is applied.
            """
    )

    enum Format: String, CommandFormat {
        case text, json, markdown
        static let help = "Output format: text, json or markdown (the playbook)."
    }

    @OptionGroup var options: CommandOptions<Format>

    @Option(help: "The environment to roll back.")
    var env: String

    @Option(help: "Only this stack (repeatable); default: every stack, in dependency order.")
    var stack: [String] = []

    @Option(help: "The release to go back to (default: the one the environment ran before its current one).")
    var to: String?

    @Option(help: "Also write the Markdown playbook to this file.")
    var playbook: String?

    func run(_ context: Context) async throws {
        let result = try await RollbackPlanner(context: context).plan(env: env, stacks: stack, to: to)
        if let playbook {
            try PathResolution.write(result.playbook, to: playbook, option: "--playbook")
        }
        switch options.format {
        case .json: Output.json(result)
        case .markdown: Output.line(result.playbook)
        case .text: Output.line(Self.render(result))
        }
    }

    static func render(_ result: RollbackPlanner.Result) -> String {
        var lines: [String] = []
        for rollback in result.stacks {
            let plan = rollback.plan.map { "plan \($0.id): \($0.hasChanges ? $0.summary.counts : "no changes")" } ?? (rollback.blocked ?? "no plan")
            lines.append("\(result.env)/\(rollback.stack): \(Digest.short(rollback.current)) → \(Digest.short(rollback.target)), \(plan)"
                + (rollback.provisional ? " (provisional: planned again once \(rollback.waitsFor.joined(separator: ", ")) \(rollback.waitsFor.count == 1 ? "is" : "are") applied)" : ""))
            lines += rollback.risks.map { "  \($0.kind.rawValue): \($0.detail)" }
        }
        for (stack, reason) in result.skipped.sorted(by: { $0.key < $1.key }) { lines.append("\(result.env)/\(stack): skipped, \(reason)") }
        lines.append("recommendation: \(result.recommendation.rawValue)")
        lines += result.reasons.map { "  because \($0)" }
        lines += result.steps.enumerated().map { "  step \($0.offset + 1): \($0.element)" }
        lines += result.commands.map { "next: \($0)" }
        return lines.joined(separator: "\n")
    }
}
