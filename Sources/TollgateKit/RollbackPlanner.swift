import Foundation
import TollgateCore

/// Plans a rollback: the release an environment ran before (or `--to`) planned against today's
/// state through the normal plan path, dependents first, with its risks judged and a playbook.
///
/// The plans are ordinary plans: they need the environment's gates and are applied with
/// `tollgate apply`. The order rule lets a release through that this environment ran before.
public struct RollbackPlanner: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    public struct StackRollback: Sendable, Encodable {
        public var stack: String
        public var current: String
        public var target: String
        public var plan: PlanRecord?
        /// Why there is no plan (prevent_destroy stopped it).
        public var blocked: String?
        public var risks: [RollbackRisk]
    }

    public struct Result: Sendable, Encodable {
        public var env: String
        public var stacks: [StackRollback]
        /// Stacks left out, with the reason (nothing applied, no earlier release, already there).
        public var skipped: [String: String]
        public var recommendation: RollbackRecommendation
        public var reasons: [String]
        public var steps: [String]
        public var playbook: String
    }

    public func plan(env: String, stacks only: [String] = [], to reference: String? = nil) async throws -> Result {
        _ = try context.environment(env)
        let wanted = try context.stacks(only: only)
        var requested: Release?
        if let reference { requested = try await context.release(reference) }
        var rollbacks: [StackRollback] = []
        var skipped: [String: String] = [:]
        // Sealed pipelines read once per release, however many stacks name it.
        var sealedTypes: [String: Set<String>] = [:]
        // Dependents first: a stack rolls back only after whatever reads its outputs.
        for stack in wanted.reversed() {
            let name = stack.name.value
            guard let lastGood = try await context.ledger.lastGood(env: env, stack: name) else {
                skipped[name] = "nothing has been applied to '\(env)/\(name)'"
                continue
            }
            let ran = try await appliedReleases(env: env, stack: name)
            let target: String
            if let requested {
                guard ran.contains(requested.id) else {
                    throw await context.refuse([.init(rule: .rollbackTarget, message: "release \(Digest.short(requested.id)) was never applied to '\(env)/\(name)'; a rollback only goes back to a release this environment ran (see 'tollgate history --env \(env)')")],
                                               subjects: ["env": env, "stack": name, "release": requested.id])
                }
                target = requested.id
            } else {
                guard let earlier = ran.last(where: { $0 != lastGood.releaseID }) else {
                    skipped[name] = "'\(env)/\(name)' has run no release before \(Digest.short(lastGood.releaseID))"
                    continue
                }
                target = earlier
            }
            if target == lastGood.releaseID {
                skipped[name] = "'\(env)/\(name)' already runs \(Digest.short(target))"
                continue
            }
            let dependents = context.pipeline.stacks.filter { $0.dependsOn.contains { $0.value == name } }.map(\.name.value)
            do {
                let (record, json) = try await Planner(context: context).planned(release: target, env: env, stacks: [name])[0]
                let risks = RollbackAnalyzer.risks(of: try PlanJSON.decode(json), stack: name, dependents: dependents,
                                                   statefulTypes: try await statefulTypes(releases: [lastGood.releaseID, target], cache: &sealedTypes))
                rollbacks.append(StackRollback(stack: name, current: lastGood.releaseID, target: target, plan: record, risks: risks))
            } catch KitError.preventDestroy(_, _, let blocked) {
                rollbacks.append(StackRollback(stack: name, current: lastGood.releaseID, target: target, plan: nil,
                    blocked: "the engine refused to plan the rollback: prevent_destroy protects \(blocked.joined(separator: ", "))",
                    risks: blocked.map { RollbackRisk(kind: .preventDestroy, stack: name, subject: $0,
                                                      detail: "\($0) has lifecycle.prevent_destroy, and the rollback would destroy it") }))
            }
        }
        // A stack the engine will not roll back makes the rollback a forward fix: the plans made for
        // the other stacks would be half a rollback, so none of them is left pending to apply.
        if let blocked = rollbacks.first(where: { $0.blocked != nil }) {
            for index in rollbacks.indices {
                guard let plan = rollbacks[index].plan, plan.status == .pending else { continue }
                try await context.ledger.setPlanStatus(plan.id, .superseded, event: AuditEntry(
                    actor: context.actor, kind: "plan.superseded", subjects: ["plan": plan.id, "release": plan.releaseID, "env": env, "stack": plan.stack],
                    payload: ["reason": .string("the rollback of '\(env)' is a forward fix: prevent_destroy blocks the rollback of '\(blocked.stack)'")]))
                rollbacks[index].plan?.status = .superseded
            }
        }
        let (recommendation, reasons, steps) = RollbackAnalyzer.recommend(rollbacks.flatMap(\.risks))
        var result = Result(env: env, stacks: rollbacks, skipped: skipped, recommendation: recommendation, reasons: reasons, steps: steps, playbook: "")
        result.playbook = Self.playbook(result)
        try await context.ledger.appendEvent(AuditEntry(
            actor: context.actor, kind: "rollback.planned", subjects: ["env": env],
            payload: ["recommendation": .string(recommendation.rawValue),
                      "plans": .array(rollbacks.compactMap { $0.plan.map { .string($0.id) } }),
                      "targets": .object(Dictionary(uniqueKeysWithValues: rollbacks.map { ($0.stack, JSONValue.string($0.target)) })),
                      "risks": .array(rollbacks.flatMap(\.risks).map { .string("\($0.kind.rawValue) \($0.subject)") })]))
        return result
    }

    /// `stateful_types` of the working tree and of the releases involved: a type declared stateful by
    /// the release running now counts, even when the target release predates the declaration.
    func statefulTypes(releases: [String], cache: inout [String: Set<String>]) async throws -> Set<String> {
        var types = Set(context.pipeline.statefulTypes)
        for id in releases {
            if cache[id] == nil {
                guard let release = try await context.ledger.release(id: id) else { continue }
                cache[id] = Set(try await context.sealed(release).pipeline.statefulTypes)
            }
            types.formUnion(cache[id] ?? [])
        }
        return types
    }

    /// Releases applied successfully to (env, stack), oldest first, each once (its latest apply).
    func appliedReleases(env: String, stack: String) async throws -> [String] {
        let releases = Dictionary(uniqueKeysWithValues: try await context.ledger.plans(env: env, stack: stack).map { ($0.id, $0.releaseID) })
        var order: [String] = []
        for apply in try await context.ledger.applies(env: env, stack: stack).sorted(by: { $0.startedAt < $1.startedAt })
        where apply.outcome == .success {
            guard let release = releases[apply.planID] else { continue }
            order.removeAll { $0 == release }
            order.append(release)
        }
        return order
    }

    /// The Markdown playbook for this rollback: what changes, the risks, the commands, how to verify.
    static func playbook(_ result: Result) -> String {
        var lines = ["# Rollback playbook: \(result.env)", ""]
        lines.append("**Recommendation: `\(result.recommendation.rawValue)`**")
        lines.append("")
        lines += result.reasons.map { "- \($0)" }
        lines.append("")
        lines.append("## What will change")
        lines.append("")
        if result.stacks.isEmpty { lines.append("Nothing: no stack has an earlier release to go back to.") }
        for rollback in result.stacks {
            lines.append("### \(result.env)/\(rollback.stack): \(Digest.short(rollback.current)) → \(Digest.short(rollback.target))")
            lines.append("")
            if let plan = rollback.plan {
                lines.append("Plan `\(plan.id)` (digest `\(plan.digest)`): \(plan.hasChanges ? plan.summary.counts : "no changes").")
                let summary = plan.summary
                lines += summary.delete.map { "- delete `\($0)`" } + summary.replace.map { "- replace `\($0)`" }
                    + summary.create.map { "- create `\($0)`" } + summary.update.map { "- update `\($0)`" }
            } else if let blocked = rollback.blocked {
                lines.append("No plan: \(blocked).")
            }
            if rollback.plan?.status == .superseded {
                lines.append("")
                lines.append("Withdrawn (status `superseded`): another stack's rollback is blocked, so this half of it is not to be applied.")
            }
            lines.append("")
        }
        for (stack, reason) in result.skipped.sorted(by: { $0.key < $1.key }) { lines.append("- skipped \(stack): \(reason)") }
        lines.append("")
        lines.append("## Risks")
        lines.append("")
        let risks = result.stacks.flatMap(\.risks)
        lines += risks.isEmpty ? ["None found: the rollback changes only stateless resources."] : risks.map { "- **\($0.kind.rawValue)** \($0.detail)" }
        lines.append("")
        lines.append("## Commands")
        lines.append("")
        var step = 1
        for action in result.steps {
            lines.append("\(step). \(action)")
            step += 1
        }
        if result.recommendation != .forwardFix {
            for rollback in result.stacks {
                guard let plan = rollback.plan else { continue }
                lines.append("\(step). `tollgate show \(plan.id)`, then the environment's gate: `tollgate approve \(plan.id) --key KEY`"
                    + (plan.summary.destructive.isEmpty ? "" : " (with `--acknowledge-destroy ADDR` for each stateful address it destroys)"))
                lines.append("\(step + 1). `tollgate apply \(plan.id)`")
                step += 2
            }
        }
        lines.append("")
        lines.append("## Verify afterwards")
        lines.append("")
        lines.append("- `tollgate status`: \(result.env) runs the target release for every stack above, and no lock is held")
        lines.append("- `tollgate drift --env \(result.env)`: exit 0, the real world matches the rolled-back state")
        lines.append("- `tollgate audit trace --env \(result.env)`: the rollback applies are traced to their approvals")
        return lines.joined(separator: "\n") + "\n"
    }
}
