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

    /// The gate decision for a plan as things stand (used by apply, promote and status).
    public func gates(_ plan: PlanRecord, release: Release) async throws -> GateDecision {
        let environment = try context.environment(plan.env)
        let previous = context.pipeline.environment(before: plan.env)?.name.value
        let applied = try await context.orderSatisfied(release: release.id, env: plan.env, stack: plan.stack, previous: previous)
        var onMain: Bool?
        if environment.gate.value == .onMerge {
            onMain = try await context.git.isAncestor(release.commit, of: context.pipeline.mainBranch)
        }
        let approvals = try await Approver(context: context).verified(plan)
        let drift = try await DriftDetector(context: context).openDrift(env: plan.env, stack: plan.stack)
        return GateEvaluator.evaluate(GateFacts(
            environment: environment, previousEnvironment: previous, release: release, plan: plan, appliedToPrevious: applied,
            onMainBranch: onMain, mainBranch: context.pipeline.mainBranch, approvals: approvals, now: context.effects.now(), openDrift: drift,
            statefulTypes: Set(context.pipeline.statefulTypes)))
    }

    public func apply(plan reference: String) async throws -> Result {
        let plan = try await self.context.plan(reference)
        let release = try await self.context.release(plan.releaseID)
        let context = try self.context.sealed(release)
        return try await Applier(context: context).apply(plan, release: release)
    }

    func apply(_ plan: PlanRecord, release: Release) async throws -> Result {
        let environment = try context.environment(plan.env)
        let stack = try context.stacks(only: [plan.stack])[0]
        let subjects = ["plan": plan.id, "release": release.id, "env": plan.env, "stack": plan.stack]

        // Cheap refusals before the lock, so a plan that cannot pass never blocks anyone.
        let early = try await gates(plan, release: release)
        if !early.allowed { throw await context.refuse(early.refusals, subjects: subjects) }

        let now = context.effects.now()
        let applyID = "x-" + context.effects.newID()
        let record = ApplyRecord(id: applyID, planID: plan.id, env: plan.env, stack: plan.stack, actor: context.actor, startedAt: now)
        let lock = LockRecord(env: plan.env, stack: plan.stack, applyID: applyID, holder: context.actor, host: context.host,
                              pid: context.pid, acquiredAt: now)
        if let held = try await context.ledger.beginApply(record, lock: lock, event: AuditEntry(
            actor: context.actor, kind: "apply.started", subjects: subjects.merging(["apply": applyID]) { a, _ in a },
            payload: ["digest": .string(plan.digest)])) {
            throw await context.refuse([.init(rule: "lock", message: Self.describeHeld(held, host: context.host))], subjects: subjects)
        }

        func finish(_ outcome: ApplyRecord.Outcome, planStatus: PlanRecord.Status?, detail: String?, lineage: String? = nil) async throws -> LastGood? {
            try await context.ledger.finishApply(
                id: applyID, outcome: outcome, planStatus: planStatus, detail: detail, at: context.effects.now(), lineage: lineage,
                event: AuditEntry(actor: context.actor, kind: "apply.finished", subjects: subjects.merging(["apply": applyID]) { a, _ in a },
                                  payload: ["outcome": .string(outcome.rawValue), "detail": JSONValue(detail)]))
        }

        var redactor = Redactor([])
        var finished = false
        do {
            // Every gate again, now that no one else can apply this (env, stack).
            let decision = try await gates(plan, release: release)
            if !decision.allowed { throw KitError.refused(decision.refusals) }
            try await context.checkIdentity(environment, subjects: subjects)
            let bytes: Data
            do {
                bytes = try context.artifacts.get(plan.digest)
            } catch {
                throw KitError.refused([.init(rule: "digest", message: "plan '\(plan.id)' was approved for digest \(plan.digest), but \(error)"
                    + "; re-run 'tollgate plan \(release.id) --env \(plan.env) --stack \(plan.stack)' and have it reviewed again")])
            }
            if context.engine.info.version.description != plan.engineVersion {
                throw KitError.refused([.init(rule: "engine", message: "plan '\(plan.id)' was made with \(plan.engineKind) \(plan.engineVersion), but this run uses \(context.engine.info.version) at \(context.engine.info.path); a plan file only applies with the engine version that made it, so set TOLLGATE_ENGINE to that version or re-plan")])
            }
            let variables = try await context.secretVariables(environment)
            redactor = Redactor(variables.values)
            let dirs = try context.workDirectory(release: release, env: plan.env, stack: stack, purpose: "apply")
            let workspace = EngineWorkspace(directory: dirs.workspace, dataDirectory: dirs.data, variables: variables)
            try await context.engine.initialize(workspace, backend: context.backendSettings(environment, stack: plan.stack))
            let current = try await context.engine.pullState(workspace)
            try await checkState(plan, current: current, subjects: subjects)
            let planFile = dirs.root + "/reviewed.tfplan"
            try bytes.write(to: URL(fileURLWithPath: planFile))
            do {
                try await context.engine.apply(workspace, planFile: planFile)
            } catch {
                // Ctrl-C or SIGTERM: the engine was stopped; record an interrupted apply, not a failure.
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                let text = redactor.redact("\(error)")
                if text.contains("Saved plan is stale") {
                    finished = true
                    _ = try await finish(.failed, planStatus: .stale, detail: "the engine refused a stale plan")
                    throw KitError.refused([.init(rule: "stale", message: "the engine refused plan '\(plan.id)' as stale: the state of '\(plan.env)/\(plan.stack)' changed after the plan was made (serial \(plan.priorSerial) at review); re-plan and have the new plan reviewed")])
                }
                finished = true
                _ = try await finish(.failed, planStatus: .failed, detail: String(text.suffix(2000)))
                throw KitError.step(text)
            }
            // The lineage is pinned on the first apply only; later applies keep it, so no second pull.
            let pinned = try await context.ledger.pinnedLineage(env: plan.env, stack: plan.stack)
            let lineage = pinned == nil ? try await context.engine.pullState(workspace).lineage : nil
            finished = true
            let good = try await finish(.success, planStatus: .applied, detail: nil, lineage: lineage)
            var tag: String?
            if let good {
                let marker = ReleaseTag(env: plan.env, stack: plan.stack, sequence: good.sequence, release: release.id, plan: plan.id,
                                        planDigest: plan.digest, commit: release.commit, pr: release.pr, apply: applyID,
                                        approvers: decision.approvedBy, appliedAt: good.appliedAt,
                                        auditHead: try? await context.ledger.auditHead())
                if (try? await context.git.tag(marker.name, commit: release.commit, message: marker.message)) != nil {
                    tag = marker.name
                }
            }
            return Result(plan: plan.id, apply: applyID, env: plan.env, stack: plan.stack, release: release.id, tag: tag, approvedBy: decision.approvedBy)
        } catch let error as KitError where error.isRefusal {
            if !finished {
                let stale = if case .refused(let refusals) = error, refusals.contains(where: { $0.rule == "stale" }) { true } else { false }
                _ = try? await finish(.failed, planStatus: stale ? .stale : nil, detail: "refused: " + error.description)
            }
            if case .refused(let refusals) = error { throw await context.refuse(refusals, subjects: subjects) }
            throw error
        } catch is CancellationError {
            await recordInterrupted(applyID: applyID, subjects: subjects)
            throw KitError.interrupted("apply of plan '\(plan.id)' was interrupted and recorded as such; check 'tollgate status', then re-plan")
        } catch let error as KitError {
            if !finished { _ = try? await finish(.failed, planStatus: nil, detail: redactor.redact(error.description)) }
            throw error
        } catch {
            let text = redactor.redact("\(error)")
            if Task.isCancelled {
                await recordInterrupted(applyID: applyID, subjects: subjects)
                throw KitError.interrupted("apply of plan '\(plan.id)' was interrupted and recorded as such; check 'tollgate status', then re-plan")
            }
            if !finished { _ = try? await finish(.failed, planStatus: nil, detail: String(text.suffix(2000))) }
            throw KitError.step(text)
        }
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
        if let pinned = try await context.ledger.pinnedLineage(env: plan.env, stack: plan.stack), pinned != current.lineage {
            let found = current.isEmpty ? "is empty" : "holds state lineage '\(current.lineage)'"
            throw KitError.refused([.init(rule: "lineage", message: "the backend of '\(target)' \(found), but '\(plan.env)' is pinned to lineage '\(pinned)' since its first apply; point the backend back at '\(plan.env)'s own state before applying")])
        }
        if current.lineage != plan.priorLineage {
            let found = current.isEmpty ? "is now empty" : "now holds state lineage '\(current.lineage)'"
            let planned = plan.priorLineage.isEmpty ? "an empty backend" : "lineage '\(plan.priorLineage)'"
            throw KitError.refused([.init(rule: "lineage", message: "plan '\(plan.id)' was made against \(planned), but the backend of '\(target)' \(found); the plan belongs to other state, so re-plan against the right backend")])
        }
        if current.serial != plan.priorSerial {
            try await context.ledger.setPlanStatus(plan.id, .stale, event: AuditEntry(
                actor: context.actor, kind: "plan.stale", subjects: subjects,
                payload: ["reviewed_serial": .number(Double(plan.priorSerial)), "current_serial": .number(Double(current.serial))]))
            throw KitError.refused([.init(rule: "stale", message: "plan '\(plan.id)' is stale: the state serial of '\(target)' moved from \(plan.priorSerial) to \(current.serial) since the review, so it would not apply what was reviewed; re-run 'tollgate plan \(plan.releaseID) --env \(plan.env) --stack \(plan.stack)' and have the new plan approved")])
        }
    }

    static func describeHeld(_ held: LockRecord, host: String) -> String {
        let alive = held.host != host || kill(held.pid, 0) == 0 || errno == EPERM
        var text = "'\(held.env)/\(held.stack)' is locked by \(held.holder) (apply \(held.applyID), pid \(held.pid) on \(held.host), since \(ISO8601DateFormatter().string(from: held.acquiredAt)))"
        text += alive ? "; wait for it to finish" : "; that process is gone, so the apply was interrupted: check the state, then run 'tollgate unlock \(held.env) \(held.stack) --reason TEXT'"
        return text
    }

    /// Whether a lock's holder process is gone (same host, pid not alive).
    public static func holderIsGone(_ lock: LockRecord, host: String) -> Bool {
        lock.host == host && kill(lock.pid, 0) != 0 && errno == ESRCH
    }
}
