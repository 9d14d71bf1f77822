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
            /// Planning or applying this stack failed; `error` says why, and the stacks after it were not touched.
            case failed
        }

        public var stack: String
        public var status: Status
        public var plan: String?
        public var summary: String?
        public var tag: String?
        /// For a waiting step: what is missing, and the commands that would supply it.
        public var missing: [String]
        public var commands: [String]
        /// For a failed step: the error, as the command reports it.
        public var error: String?
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
                steps.append(Step(stack: name, status: .alreadyApplied, plan: nil, summary: nil, tag: nil, missing: [], commands: [], error: nil))
                continue
            }
            // Reuse a pending plan of this release (it may already carry approvals); otherwise plan now.
            let plan: PlanRecord
            do {
                let pending = try await context.ledger.plans(env: env, stack: name).last { $0.releaseID == release.id && $0.status == .pending }
                plan = if let pending { pending } else { try await Planner(context: context).plan(release: release.id, env: env, stacks: [name])[0] }
            } catch {
                throw PromotionFailed.after(steps, stack: name, plan: nil, error)
            }
            let decision = try await applier.gates(plan, release: release)
            let waitingOnly = decision.refusals.allSatisfy { $0.rule.waitsForApprover }
            if !decision.allowed && waitingOnly {
                // The acknowledgements the gate asks for, with every stateful type in play.
                let acknowledge = decision.statefulDestroyed.map { " --acknowledge-destroy '\($0)'" }.joined()
                var commands = decision.eligibleApprovers.map { "tollgate approve \(plan.id) --key KEY\(acknowledge)  # as \($0)" }
                commands.append("tollgate promote \(release.id) --to \(env)  # again, once approved")
                steps.append(Step(stack: name, status: .waiting, plan: plan.id, summary: plan.summary.counts, tag: nil,
                                  missing: decision.refusals.map(\.message), commands: commands, error: nil))
                // Stopping at the gate is a refusal like any other: on the record.
                _ = await context.refuse(decision.refusals, subjects: ["plan": plan.id, "release": release.id, "env": env, "stack": name])
                throw PromotionPaused(steps: steps)
            }
            let result: Applier.Result
            do {
                result = try await applier.apply(plan: plan.id)
            } catch {
                throw PromotionFailed.after(steps, stack: name, plan: plan, error)
            }
            steps.append(Step(stack: name, status: .applied, plan: plan.id, summary: plan.summary.counts, tag: result.tag, missing: [], commands: [], error: nil))
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

/// Promotion failed at a stack after others were applied: the error, with every step reached, so
/// the applies that did happen are reported too.
public struct PromotionFailed: Error, Sendable, CustomStringConvertible {
    /// The steps before the failure, then the failed one.
    public var steps: [Promoter.Step]
    public var underlying: any Error

    static func after(_ steps: [Promoter.Step], stack: String, plan: PlanRecord?, _ error: any Error) -> any Error {
        // Cancellation is not a failure of the stack; it is reported as an interruption.
        if error is CancellationError { return error }
        let failed = Promoter.Step(stack: stack, status: .failed, plan: plan?.id, summary: plan?.summary.counts, tag: nil, missing: [], commands: [],
                                   error: "\(error)")
        return PromotionFailed(steps: steps + [failed], underlying: error)
    }

    public var description: String { "\(underlying)" }
}
