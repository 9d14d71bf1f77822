import Foundation
import TollgateCore

/// `promote RELEASE --to ENV`: plan, gate and apply every stack in dependency order, stopping at the
/// first stack whose gate needs a human, with the exact commands that would unblock it.
public struct Promoter: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    public struct Step: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable {
            case applied
            case alreadyApplied = "already-applied"
            case waiting
        }

        public var stack: String
        public var status: Status
        public var plan: String?
        public var summary: String?
        public var tag: String?
        /// For a waiting step: what is missing, and the commands that would supply it.
        public var missing: [String]
        public var commands: [String]
    }

    public func promote(release reference: String, to env: String) async throws -> [Step] {
        let release = try await self.context.release(reference)
        let context = try await self.context.sealed(release)
        _ = try context.environment(env)
        let applier = Applier(context: context)
        var steps: [Step] = []
        for stack in try context.stacks(only: []) {
            let name = stack.name.value
            if try await context.appliedSuccessfully(release: release.id, env: env, stack: name) {
                steps.append(Step(stack: name, status: .alreadyApplied, plan: nil, summary: nil, tag: nil, missing: [], commands: []))
                continue
            }
            // Reuse a pending plan of this release (it may already carry approvals); otherwise plan now.
            let pending = try await context.ledger.plans(env: env, stack: name).last { $0.releaseID == release.id && $0.status == .pending }
            let plan = if let pending { pending } else { try await Planner(context: context).plan(release: release.id, env: env, stacks: [name])[0] }
            let decision = try await applier.gates(plan, release: release)
            let waitingOnly = decision.refusals.allSatisfy { $0.rule.waitsForApprover }
            if !decision.allowed && waitingOnly {
                // The acknowledgements the gate asks for, with every stateful type in play.
                let acknowledge = decision.statefulDestroyed.map { " --acknowledge-destroy '\($0)'" }.joined()
                var commands = decision.eligibleApprovers.map { "tollgate approve \(plan.id) --key KEY\(acknowledge)  # as \($0)" }
                commands.append("tollgate promote \(release.id) --to \(env)  # again, once approved")
                steps.append(Step(stack: name, status: .waiting, plan: plan.id, summary: plan.summary.counts, tag: nil,
                                  missing: decision.refusals.map(\.message), commands: commands))
                // Stopping at the gate is a refusal like any other: on the record.
                _ = await context.refuse(decision.refusals, subjects: ["plan": plan.id, "release": release.id, "env": env, "stack": name])
                throw PromotionPaused(steps: steps)
            }
            let result = try await applier.apply(plan: plan.id)
            steps.append(Step(stack: name, status: .applied, plan: plan.id, summary: plan.summary.counts, tag: result.tag, missing: [], commands: []))
        }
        return steps
    }
}

/// Promotion stopped at an approval gate: a refusal (exit 3) that carries the steps so far.
public struct PromotionPaused: Error, Sendable, CustomStringConvertible {
    public var steps: [Promoter.Step]

    public var description: String {
        guard let waiting = steps.last, waiting.status == .waiting else { return "promotion paused" }
        return "promotion paused at '\(waiting.stack)': " + waiting.missing.joined(separator: "; ")
    }
}
