import Foundation
import TollgateCore

/// Plans a rollback: the release an environment ran before (or `--to`) planned against today's
/// state through the normal plan path, in dependency order, with its risks judged and a playbook.
///
/// The plans are ordinary plans: they need the environment's gates and are applied with
/// `tollgate apply`. The order rule lets a release through that this environment ran before.
///
/// A stack that reads another's outputs (`terraform_remote_state`, found in its code, or
/// `depends_on` when the code shows no read) and whose upstream's rollback changes them is
/// planned against the upstream's outputs of today: that plan is provisional. The playbook applies
/// the upstream first and then plans the stack again; the apply gate refuses the provisional plan
/// once the upstream's apply changed what it reads.
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
        /// Stacks of this rollback whose plans change outputs this stack reads: its plan reads their
        /// outputs of today, so it is provisional and is made again once they are applied.
        public var waitsFor: [String] = []
        public var provisional: Bool { !waitsFor.isEmpty }

        enum CodingKeys: String, CodingKey {
            case stack, current, target, plan, blocked, risks, waitsFor, provisional
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stack, forKey: .stack)
            try container.encode(current, forKey: .current)
            try container.encode(target, forKey: .target)
            try container.encodeIfPresent(plan, forKey: .plan)
            try container.encodeIfPresent(blocked, forKey: .blocked)
            try container.encode(risks, forKey: .risks)
            try container.encode(waitsFor, forKey: .waitsFor)
            try container.encode(provisional, forKey: .provisional)
        }
    }

    public struct Result: Sendable, Encodable {
        public var env: String
        public var stacks: [StackRollback]
        /// Stacks left out, with the reason (nothing applied, no earlier release, already there).
        public var skipped: [String: String]
        public var recommendation: RollbackRecommendation
        public var reasons: [String]
        public var steps: [String]
        /// The commands to run, in order (KEY stands for the approver's key).
        public var commands: [String]
        public var playbook: String
    }

    /// One stack's place in the rollback before it is planned.
    struct Target {
        var stack: Stack
        var current: String
        var target: String
    }

    public func plan(env: String, stacks only: [String] = [], to reference: String? = nil) async throws -> Result {
        _ = try context.environment(env)
        let wanted = try context.stacks(only: only)
        var requested: Release?
        if let reference { requested = try await context.release(reference) }
        var targets: [Target] = []
        var skipped: [String: String] = [:]
        for stack in wanted {
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
            targets.append(Target(stack: stack, current: lastGood.releaseID, target: target))
        }
        let readers = try await outputReaders(env: env, targets: targets)
        var rollbacks: [StackRollback] = []
        // Sealed pipelines and code read once per release, however many stacks name it.
        var sealedTypes: [String: Set<String>] = [:]
        var code: [String: [String: [UInt8]]] = [:]
        // Dependencies first, as promote goes: a stack's rollback reads what its upstream's left.
        for target in try ordered(targets, readers: readers) {
            let name = target.stack.name.value
            let waitsFor = rollbacks.filter { upstream in
                guard let reader = readers[upstream.stack]?.first(where: { $0.stack == name }) else { return false }
                if upstream.provisional { return true }
                return upstream.plan.map { plan in reader.outputs.map { plan.summary.outputChanges.contains(where: $0.contains) } ?? !plan.summary.outputChanges.isEmpty } ?? false
            }.map(\.stack)
            if code[target.current] == nil { code[target.current] = try await context.files(ofRelease: target.current) }
            let protected = ProtectedResources.addresses(stackPath: target.stack.path, files: code[target.current] ?? [:])
            do {
                let (record, json) = try await Planner(context: context).planned(release: target.target, env: env, stacks: [name])[0]
                let risks = RollbackAnalyzer.risks(of: try PlanJSON.decode(json), stack: name, readers: readers[name] ?? [],
                                                   statefulTypes: try await statefulTypes(releases: [target.current, target.target], cache: &sealedTypes),
                                                   protected: protected)
                rollbacks.append(StackRollback(stack: name, current: target.current, target: target.target, plan: record, risks: risks, waitsFor: waitsFor))
            } catch KitError.preventDestroy(_, _, let blocked) {
                rollbacks.append(StackRollback(stack: name, current: target.current, target: target.target, plan: nil,
                    blocked: "the engine refused to plan the rollback: prevent_destroy protects \(blocked.joined(separator: ", "))",
                    risks: blocked.map { RollbackRisk(kind: .preventDestroy, stack: name, subject: $0,
                                                      detail: "\($0) has lifecycle.prevent_destroy, and the rollback would destroy it") },
                    waitsFor: waitsFor))
            }
        }
        var (recommendation, reasons, steps) = RollbackAnalyzer.recommend(rollbacks.flatMap(\.risks))
        if rollbacks.isEmpty {
            recommendation = .nothingToRollBack
            reasons = skipped.isEmpty ? ["no stack was asked for"] : skipped.keys.sorted().map { skipped[$0]! }
            steps = []
        }
        // A forward fix means no rollback: the plans made for it would be half of one (or one the
        // engine or provider refuses), so none of them is left pending to apply.
        if recommendation == .forwardFix {
            let why = reasons.first ?? "the rollback is a forward fix"
            for index in rollbacks.indices {
                guard let plan = rollbacks[index].plan, plan.status == .pending else { continue }
                try await context.ledger.setPlanStatus(plan.id, .superseded, event: AuditEntry(
                    actor: context.actor, kind: "plan.superseded", subjects: ["plan": plan.id, "release": plan.releaseID, "env": env, "stack": plan.stack],
                    payload: ["reason": .string("the rollback of '\(env)' is a forward fix: \(why)")]))
                rollbacks[index].plan?.status = .superseded
            }
        }
        var result = Result(env: env, stacks: rollbacks, skipped: skipped, recommendation: recommendation, reasons: reasons, steps: steps,
                            commands: Self.commands(env: env, rollbacks: rollbacks, recommendation: recommendation, to: requested?.id), playbook: "")
        result.playbook = Self.playbook(result)
        try await context.ledger.appendEvent(AuditEntry(
            actor: context.actor, kind: "rollback.planned", subjects: ["env": env],
            payload: ["recommendation": .string(recommendation.rawValue),
                      "plans": .array(rollbacks.compactMap { $0.plan.map { .string($0.id) } }),
                      "provisional": .array(rollbacks.filter(\.provisional).map { .string($0.stack) }),
                      "targets": .object(Dictionary(uniqueKeysWithValues: rollbacks.map { ($0.stack, JSONValue.string($0.target)) })),
                      "risks": .array(rollbacks.flatMap(\.risks).map { .string("\($0.kind.rawValue) \($0.subject)") })]))
        return result
    }

    /// For every stack, the stacks that read its outputs: from the code each runs after the
    /// rollback (its target when it rolls back, its last-good release otherwise), through
    /// `terraform_remote_state`; a `depends_on` with no read in the code counts as reading every output.
    func outputReaders(env: String, targets: [Target]) async throws -> [String: [OutputReader]] {
        let stacks = context.pipeline.stacks
        var code: [String: [String: [UInt8]]] = [:]
        var readers: [String: [OutputReader]] = [:]
        for stack in stacks {
            let name = stack.name.value
            let running = if let target = targets.first(where: { $0.stack.name.value == name }) { target.target } else {
                try await context.ledger.lastGood(env: env, stack: name)?.releaseID
            }
            var reads: [RemoteStateRead] = []
            if let running {
                if code[running] == nil { code[running] = try await context.files(ofRelease: running) }
                reads = StackReads.reads(of: stack, stacks: stacks, files: code[running] ?? [:])
            }
            for upstream in Set(reads.map(\.upstream)).sorted() {
                let named = reads.filter { $0.upstream == upstream }
                let outputs: [String]? = named.contains { $0.outputs == nil } ? nil : Array(Set(named.flatMap { $0.outputs ?? [] })).sorted()
                readers[upstream, default: []].append(OutputReader(stack: name, outputs: outputs))
            }
            for upstream in stack.dependsOn.map(\.value) where !reads.contains(where: { $0.upstream == upstream }) {
                readers[upstream, default: []].append(OutputReader(stack: name, outputs: nil))
            }
        }
        return readers
    }

    /// The targets in dependency order, counting reads found in the code as dependencies too.
    func ordered(_ targets: [Target], readers: [String: [OutputReader]]) throws -> [Target] {
        let stacks = targets.map { target in
            let name = target.stack.name.value
            let upstreams = readers.filter { $0.value.contains { $0.stack == name } }.keys.sorted()
                .filter { upstream in targets.contains { $0.stack.name.value == upstream } }
            return Stack(name: target.stack.name, path: target.stack.path, dependsOn: upstreams.map { Located($0) })
        }
        switch StackOrder.order(stacks) {
        case .failure(let cycle): throw KitError.cycle(cycle.stacks)
        case .success(let order): return order.compactMap { name in targets.first { $0.stack.name.value == name } }
        }
    }

    /// The commands that carry the rollback out, in order: each plan that is not provisional is
    /// approved and applied; then the provisional stacks are planned again against what their
    /// upstreams now hold (a rollback of their own, whose playbook goes on).
    static func commands(env: String, rollbacks: [StackRollback], recommendation: RollbackRecommendation, to target: String?) -> [String] {
        guard recommendation != .forwardFix, recommendation != .nothingToRollBack else { return [] }
        var commands: [String] = []
        for rollback in rollbacks where !rollback.provisional {
            guard let plan = rollback.plan else { continue }
            // Acknowledged: each stateful address it destroys or replaces, which the gate asks for.
            let acknowledge = rollback.risks.filter { $0.kind == .dataLoss }.map { " --acknowledge-destroy '\($0.subject)'" }.joined()
            commands.append("tollgate approve \(plan.id) --key KEY" + acknowledge)
            commands.append("tollgate apply \(plan.id)")
        }
        let later = rollbacks.filter(\.provisional).map(\.stack)
        if !later.isEmpty {
            commands.append("tollgate rollback --env \(env)" + later.map { " --stack \($0)" }.joined() + (target.map { " --to \($0)" } ?? "")
                            + " --playbook rollback-\(env)-\(later[0]).md")
        }
        return commands
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
        if result.stacks.isEmpty { lines.append("Nothing: no stack has an earlier release to go back to (see the stacks skipped below).") }
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
                lines.append("Withdrawn (status `superseded`): the rollback is a forward fix, so no part of it is to be applied.")
            } else if rollback.provisional, rollback.plan != nil {
                lines.append("")
                lines.append("Provisional: made against the outputs \(rollback.waitsFor.joined(separator: ", ")) hold\(rollback.waitsFor.count == 1 ? "s" : "") today, which their rollback changes. "
                    + "Do not approve it: it is planned again once \(rollback.waitsFor.joined(separator: ", ")) \(rollback.waitsFor.count == 1 ? "is" : "are") applied, and the gate refuses it after that.")
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
        for command in result.commands {
            if command.hasPrefix("tollgate approve ") {
                let plan = command.split(separator: " ")[2]
                lines.append("\(step). review `tollgate show \(plan)`, then the environment's gate: `\(command)`")
            } else if command.hasPrefix("tollgate rollback ") {
                lines.append("\(step). once the applies above are done, plan the provisional stacks again against what their upstreams now hold: `\(command)`, and follow the playbook it writes")
            } else {
                lines.append("\(step). `\(command)`")
            }
            step += 1
        }
        if result.commands.isEmpty && result.steps.isEmpty { lines.append("None.") }
        lines.append("")
        lines.append("## Verify afterwards")
        lines.append("")
        lines.append("- `tollgate status`: \(result.env) runs the target release for every stack above, and no lock is held")
        lines.append("- `tollgate drift --env \(result.env)`: exit 0, the real world matches the rolled-back state")
        lines.append("- `tollgate audit trace --env \(result.env)`: the rollback applies are traced to their approvals")
        return lines.joined(separator: "\n") + "\n"
    }
}
