import Foundation
import TollgateCore
#if canImport(Glibc)
import Glibc
#endif

/// Applies one reviewed plan: under the (env, stack) lock, every gate again, the digest the
/// approvals signed, the state the plan was made against, then exactly those plan bytes.
public struct Applier: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    public struct Result: Sendable, Codable, Equatable {
        public var plan: String
        public var apply: String
        public var env: String
        public var stack: String
        public var release: String
        public var tag: String?
        public var approvedBy: [String]
    }

    /// The gate decision for a plan as things stand (used by apply, promote, show and status):
    /// judged by the governance in force for its (env, stack), tightened by the release's own.
    public func gates(_ plan: PlanRecord, release: Release) async throws -> GateDecision {
        try await judged(plan, release: release).decision
    }

    /// The decision together with the governance judgement behind it.
    func judged(_ plan: PlanRecord, release: Release) async throws -> (decision: GateDecision, judgement: GovernanceResolver.Judgement) {
        let environment = try context.environment(plan.env)
        let judgement = try await GovernanceResolver(context: context).judge(plan, release: release)
        let previous = context.pipeline.environment(before: plan.env)?.name.value
        let applied = try await context.orderSatisfied(release: release.id, env: plan.env, stack: plan.stack, previous: previous)
        let merge = judgement.merge
        let approvals = try await Approver(context: context).verified(plan, signers: judgement.signersPath)
        let drift = try await DriftDetector(context: context).openDrift(env: plan.env, stack: plan.stack)
        let invoker = if let id = plan.breakGlass { try await context.ledger.breakGlasses().first { $0.id == id }?.actor } else { String?.none }
        var facts = GateFacts(
            environment: environment, previousEnvironment: previous, release: release, plan: plan, appliedToPrevious: applied,
            onMainBranch: merge?.proof != nil, mainBranch: judgement.effective.mainBranch, approvals: approvals, now: context.effects.now(), openDrift: drift,
            statefulTypes: Set(context.pipeline.statefulTypes), inForce: judgement.inForce, proposed: judgement.proposed,
            authors: judgement.authors, authorshipVerified: judgement.authorshipVerified, unsignedCommits: judgement.unsignedCommits,
            breakGlassInvoker: invoker, mergeCheck: merge)
        facts.changedUpstream = try await changedUpstream(plan, release: release)
        return (GateEvaluator.evaluate(facts), judgement)
    }

    /// Applies of other stacks, finished after `plan` was made, that changed outputs its stack's code
    /// reads through `terraform_remote_state` (see `StackReads`): the plan holds the old values.
    func changedUpstream(_ plan: PlanRecord, release: Release) async throws -> [UpstreamChange] {
        var later: [String: [ApplyRecord]] = [:]
        for other in context.pipeline.stacks where other.name.value != plan.stack {
            let applies = try await context.ledger.applies(env: plan.env, stack: other.name.value)
                .filter { $0.outcome == .success && ($0.finishedAt ?? $0.startedAt) > plan.createdAt }
            if !applies.isEmpty { later[other.name.value] = applies }
        }
        guard !later.isEmpty, let stack = context.pipeline.stack(named: plan.stack) else { return [] }
        var changes: [UpstreamChange] = []
        for read in StackReads.reads(of: stack, stacks: context.pipeline.stacks, files: try await context.files(ofRelease: release.id)) {
            for apply in later[read.upstream] ?? [] {
                guard let applied = try await context.ledger.plan(id: apply.planID) else { continue }
                let outputs = applied.summary.outputChanges.filter { read.outputs?.contains($0) ?? true }
                if !outputs.isEmpty {
                    changes.append(UpstreamChange(stack: read.upstream, dataSource: read.dataSource, outputs: outputs, apply: apply.id, plan: applied.id))
                }
            }
        }
        return changes
    }

    public func apply(plan reference: String) async throws -> Result {
        let plan = try await self.context.plan(reference)
        let release = try await self.context.release(plan.releaseID)
        let context = try await self.context.sealed(release)
        return try await Applier(context: context).apply(plan, release: release)
    }

    func apply(_ plan: PlanRecord, release: Release) async throws -> Result {
        let subjects = ["plan": plan.id, "release": release.id, "env": plan.env, "stack": plan.stack]
        // Cheap refusals before the lock, so a plan that cannot pass never blocks anyone.
        let early = try await gates(plan, release: release)
        if !early.allowed { throw await context.refuse(early.refusals, subjects: subjects) }
        let run = ApplyRun(applier: self, plan: plan, release: release, applyID: "x-" + context.effects.newID(), subjects: subjects, decision: early)
        try await run.lock()
        return try await run.execute()
    }
    /// Records an interrupted apply from outside the cancelled task, so the write itself is not cancelled.
    func recordInterrupted(applyID: String, subjects: [String: String]) async {
        let context = self.context
        _ = try? await Task.detached {
            try await context.ledger.finishApply(
                id: applyID, outcome: .interrupted, planStatus: nil, detail: "interrupted by a signal; the engine was stopped",
                at: context.effects.now(), lineage: nil,
                event: AuditEntry(actor: context.actor, kind: "apply.finished", subjects: subjects.merging(["apply": applyID]) { a, _ in a },
                                  payload: ["outcome": "interrupted"]))
        }.value
    }

    /// The lineage and stale guards: the backend must hold exactly the state the plan was made against.
    func checkState(_ plan: PlanRecord, current: StateIdentity, subjects: [String: String]) async throws {
        let target = "\(plan.env)/\(plan.stack)"
        let pinned = try await context.ledger.pinnedLineage(env: plan.env, stack: plan.stack)
        if let pinned, pinned != current.lineage {
            let found = current.isEmpty ? "is empty" : "holds state lineage '\(current.lineage)'"
            throw KitError.refused([.init(rule: .lineage, message: "the backend of '\(target)' \(found), but '\(plan.env)' is pinned to lineage '\(pinned)' since its first apply; point the backend back at '\(plan.env)'s own state before applying")])
        }
        // A first apply must not adopt state that another (env, stack) owns.
        if pinned == nil, !current.isEmpty,
           let owner = try await context.ledger.lineageOwners(current.lineage).first(where: { $0.env != plan.env || $0.stack != plan.stack }) {
            throw KitError.refused([.init(rule: .lineage, message: "the backend of '\(target)' holds state lineage '\(current.lineage)', which is pinned to '\(owner.env)/\(owner.stack)'; a first apply must never adopt another environment's state, so give '\(plan.env)' a backend of its own (check for symlinks and shared buckets) before applying")])
        }
        if current.lineage != plan.priorLineage {
            let found = current.isEmpty ? "is now empty" : "now holds state lineage '\(current.lineage)'"
            let planned = plan.priorLineage.isEmpty ? "an empty backend" : "lineage '\(plan.priorLineage)'"
            throw KitError.refused([.init(rule: .lineage, message: "plan '\(plan.id)' was made against \(planned), but the backend of '\(target)' \(found); the plan belongs to other state, so re-plan against the right backend")])
        }
        if current.serial != plan.priorSerial {
            try await context.ledger.setPlanStatus(plan.id, .stale, event: AuditEntry(
                actor: context.actor, kind: "plan.stale", subjects: subjects,
                payload: ["reviewed_serial": .number(Double(plan.priorSerial)), "current_serial": .number(Double(current.serial))]))
            throw KitError.refused([.init(rule: .stale, message: "plan '\(plan.id)' is stale: the state serial of '\(target)' moved from \(plan.priorSerial) to \(current.serial) since the review, so it would not apply what was reviewed; re-run 'tollgate plan \(plan.releaseID) --env \(plan.env) --stack \(plan.stack)' and have the new plan approved")])
        }
    }

    static func describeHeld(_ held: LockRecord, now: Date) -> String {
        var text = "'\(held.env)/\(held.stack)' is locked by \(held.holder) (apply \(held.applyID), lease #\(held.token) on \(held.host)"
            + (held.runURL.map { ", \($0)" } ?? "") + ", since \(Timestamp.text(held.acquiredAt)))"
        text += held.expired(at: now)
            ? "; its lease expired at \(Timestamp.text(held.expiresAt)), so its holder is gone and the apply was interrupted: check the state, then run 'tollgate unlock \(held.env) \(held.stack) --reason TEXT'"
            : "; its lease runs until \(Timestamp.text(held.expiresAt)) and is renewed while it applies, so wait for it to finish"
        return text
    }

    /// Whether a lock's holder is gone: its lease ran out without renewal.
    public static func holderIsGone(_ lock: LockRecord, now: Date) -> Bool {
        lock.expired(at: now)
    }
}
