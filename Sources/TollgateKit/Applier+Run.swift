import Foundation
import TollgateCore

/// One apply of one plan under the (env, stack) lock, from taking the lock to recording the outcome.
///
/// Every way out records exactly one outcome: success, failed (with the plan marked stale when the
/// state moved), refused, or interrupted by a signal.
struct ApplyRun: Sendable {
    var applier: Applier
    var plan: PlanRecord
    var release: Release
    var applyID: String
    var subjects: [String: String]
    /// The gate decision before the lock: what judges this apply, put on the record when it starts
    /// (a bootstrap is recorded as such).
    var decision: GateDecision

    var context: Context { applier.context }
    var applySubjects: [String: String] { subjects.merging(["apply": applyID]) { a, _ in a } }

    /// Takes the lock as a lease and records the apply as running. A live lease held by another
    /// apply is a recorded refusal; an expired one is released first (its apply recorded as
    /// interrupted), since its holder stopped renewing it.
    func lock() async throws {
        for attempt in 0..<2 {
            let now = context.effects.now()
            let record = ApplyRecord(id: applyID, planID: plan.id, env: plan.env, stack: plan.stack, actor: context.actor, startedAt: now)
            let lock = LockRecord(env: plan.env, stack: plan.stack, applyID: applyID, holder: context.actor, host: context.host,
                                  pid: context.pid, acquiredAt: now, expiresAt: now.addingTimeInterval(context.lease), runURL: context.runURL)
            guard let held = try await context.ledger.beginApply(record, lock: lock, event: AuditEntry(
                actor: context.actor, kind: "apply.started", subjects: applySubjects,
                payload: startedPayload)) else { return }
            guard attempt == 0, held.expired(at: now),
                  try await context.ledger.expireLease(env: plan.env, stack: plan.stack, at: now, event: AuditEntry(
                    actor: context.actor, kind: "lock.expired", subjects: ["env": plan.env, "stack": plan.stack, "apply": held.applyID],
                    payload: ["holder": .string(held.holder), "expired_at": .string(Timestamp.text(held.expiresAt)),
                              "token": .number(Double(held.token))])) != nil else {
                throw await context.refuse([.init(rule: .lock, message: Applier.describeHeld(held, now: now))], subjects: subjects)
            }
        }
    }

    /// What `apply.started` records: the digest, what judged the plan, the run, and how the
    /// on-merge gate found the release on the main branch (when it was asked).
    var startedPayload: JSONValue {
        var payload: [String: JSONValue] = [
            "digest": .string(plan.digest), "judged_by": .string(decision.judgedBy), "run_url": JSONValue(context.runURL),
            "governance_changes": .array(decision.governanceChanges.map { .string($0.description) }),
        ]
        if let proof = decision.mergedBy { payload["merged_by"] = proof.json }
        return .object(payload)
    }

    /// Renews the lease every third of its length until cancelled; throws `LeaseLost` when the
    /// ledger says another command released it, or when it could not be renewed before it ran out.
    func renewLease() async throws {
        var expires = context.effects.now().addingTimeInterval(context.lease)
        while true {
            try await context.effects.sleep(.milliseconds(Int64(context.lease * 1000 / 3)))
            let now = context.effects.now()
            do {
                if try await context.ledger.renewLease(applyID: applyID, until: now.addingTimeInterval(context.lease)) {
                    expires = now.addingTimeInterval(context.lease)
                    continue
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // A blip in reaching the ledger: keep trying while the lease still stands.
                if now < expires { continue }
            }
            throw LeaseLost(applyID: applyID, env: plan.env, stack: plan.stack)
        }
    }

    /// The apply under its lease: the work and the renewals side by side; losing the lease stops the engine.
    func execute() async throws -> Applier.Result {
        try await withThrowingTaskGroup(of: Applier.Result?.self) { group in
            group.addTask { try await self.executeLeased() }
            group.addTask {
                // Cancelled with the command: the work reports how it ended (interrupted), not this.
                do { try await self.renewLease() } catch is CancellationError {}
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let result = next { return result }
            }
            throw CancellationError()
        }
    }

    /// Everything after the lock: the gates again, the guards, the engine, then the record.
    func executeLeased() async throws -> Applier.Result {
        var redactor = Redactor([])
        do {
            // Every gate again on the plan as the ledger has it now: another runner may have applied it
            // between the first check and the lock.
            let current = try await context.ledger.plan(id: plan.id) ?? plan
            let decision = try await applier.gates(current, release: release)
            if !decision.allowed { throw KitError.refused(decision.refusals) }
            let environment = try context.environment(plan.env)
            try await context.checkIdentity(environment, subjects: subjects)
            let bytes = try await reviewedBytes()
            let variables = try await context.secretVariables(environment)
            redactor = Redactor(variables.values)
            let stack = try context.stacks(only: [plan.stack])[0]
            let dirs = try await context.workDirectory(release: release, env: plan.env, stack: stack, purpose: "apply")
            let workspace = EngineWorkspace(directory: dirs.workspace, dataDirectory: dirs.data, variables: variables)
            try await context.step("init", env: plan.env, stack: plan.stack) {
                try await context.engine.initialize(workspace, backend: context.backendSettings(environment, stack: plan.stack))
            }
            try await applier.checkState(plan, current: try await context.engine.pullState(workspace), subjects: subjects)
            let planFile = dirs.root + "/reviewed.tfplan"
            try bytes.write(to: URL(fileURLWithPath: planFile))
            try await runEngine(workspace, planFile: planFile, redactor: redactor)
            let good: LastGood?
            do {
                // The lineage is pinned on the first apply only; later applies keep it, so no second pull.
                let pinned = try await context.ledger.pinnedLineage(env: plan.env, stack: plan.stack)
                let lineage = pinned == nil ? try await context.engine.pullState(workspace).lineage : nil
                good = try await finish(.success, planStatus: .applied, detail: nil, lineage: lineage)
            } catch let error where !(error is LeaseLost) && !(error is CancellationError) {
                // The engine changed the state; only the record is missing. No second write is tried.
                throw Recorded(error: KitError.step("the engine applied plan '\(plan.id)' to \(plan.env)/\(plan.stack), but its outcome could not be recorded: \(error); the lock stays held until its lease runs out, then 'tollgate status' shows it as expired: unlock it with 'tollgate unlock \(plan.env) \(plan.stack) --reason TEXT' and re-plan, which starts from the state as the engine left it"))
            }
            return Applier.Result(plan: plan.id, apply: applyID, env: plan.env, stack: plan.stack, release: release.id,
                                  tag: await tag(good, approvers: decision.approvedBy), approvedBy: decision.approvedBy)
        } catch let error as Recorded {
            throw error.error
        } catch let error as KitError where error.isRefusal {
            let stale = if case .refused(let refusals) = error, refusals.contains(where: { $0.rule == .stale }) { true } else { false }
            _ = try? await finish(.failed, planStatus: stale ? .stale : nil, detail: "refused: " + error.description)
            if case .refused(let refusals) = error { throw await context.refuse(refusals, subjects: subjects) }
            throw error
        } catch let error where error is CancellationError || Task.isCancelled {
            await applier.recordInterrupted(applyID: applyID, subjects: subjects)
            throw KitError.interrupted("apply of plan '\(plan.id)' was interrupted and recorded as such; check 'tollgate status', then re-plan")
        } catch let error as KitError {
            _ = try? await finish(.failed, planStatus: nil, detail: redactor.redact(error.description))
            throw error
        } catch {
            let text = redactor.redact("\(error)")
            _ = try? await finish(.failed, planStatus: nil, detail: String(text.suffix(2000)))
            throw KitError.step(text)
        }
    }

    /// An error whose outcome is already on the record, passed through the handlers untouched.
    struct Recorded: Error { var error: any Error }

    /// The stored plan bytes, re-hashed: the digest the approvals signed, or a refusal.
    func reviewedBytes() async throws -> Data {
        do {
            let bytes = try await context.artifacts.get(plan.digest)
            if context.engine.info.version.description != plan.engineVersion {
                throw KitError.refused([.init(rule: .engine, message: "plan '\(plan.id)' was made with \(plan.engineKind) \(plan.engineVersion), but this run uses \(context.engine.info.version) at \(context.engine.info.path); a plan file only applies with the engine version that made it, so set TOLLGATE_ENGINE to that version or re-plan")])
            }
            return bytes
        } catch let error as KitError {
            throw error
        } catch {
            throw KitError.refused([.init(rule: .digest, message: "plan '\(plan.id)' was approved for digest \(plan.digest), but \(error)"
                + "; re-run 'tollgate plan \(release.id) --env \(plan.env) --stack \(plan.stack)' and have it reviewed again")])
        }
    }

    /// Runs the engine's apply; a failure is recorded here, so callers see it as already on the record.
    func runEngine(_ workspace: EngineWorkspace, planFile: String, redactor: Redactor) async throws {
        do {
            try await context.step("apply", env: plan.env, stack: plan.stack) { try await context.engine.apply(workspace, planFile: planFile) }
        } catch let stale as StalePlanError {
            _ = try await finish(.failed, planStatus: .stale, detail: "the engine refused a stale plan: \(redactor.redact(stale.engineMessage))")
            let refusal = GateDecision.Refusal(rule: .stale, message: "the engine refused plan '\(plan.id)' as stale: the state of '\(plan.env)/\(plan.stack)' changed after the plan was made (serial \(plan.priorSerial) at review); re-plan and have the new plan reviewed")
            throw Recorded(error: await context.refuse([refusal], subjects: subjects))
        } catch {
            // Ctrl-C or SIGTERM: the engine was stopped; the caller records an interrupted apply.
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            let text = redactor.redact("\(error)")
            _ = try await finish(.failed, planStatus: .failed, detail: String(text.suffix(2000)))
            throw Recorded(error: KitError.step(text))
        }
    }

    func finish(_ outcome: ApplyRecord.Outcome, planStatus: PlanRecord.Status?, detail: String?, lineage: String? = nil) async throws -> LastGood? {
        try await context.ledger.finishApply(
            id: applyID, outcome: outcome, planStatus: planStatus, detail: detail, at: context.effects.now(), lineage: lineage,
            event: AuditEntry(actor: context.actor, kind: "apply.finished", subjects: applySubjects,
                              payload: ["outcome": .string(outcome.rawValue), "detail": JSONValue(detail)]))
    }

    /// The annotated tag `tollgate/ENV/STACK/N` on the release commit; nil when git could not write it.
    /// A squash-merged release's own commit is often missing from a CI checkout: the tag then goes on
    /// the main commit that proved the merge, which holds the same content.
    func tag(_ good: LastGood?, approvers: [String]) async -> String? {
        guard let good else { return nil }
        let present = (try? await context.git.resolveCommit(release.commit)) != nil
        let commit = present ? release.commit : decision.mergedBy?.commit ?? release.commit
        let marker = ReleaseTag(env: plan.env, stack: plan.stack, sequence: good.sequence, release: release.id, plan: plan.id,
                                planDigest: plan.digest, commit: commit, pr: release.pr, apply: applyID,
                                approvers: approvers, appliedAt: good.appliedAt, auditHead: try? await context.ledger.auditHead())
        // With TOLLGATE_TAG_SIGNING_KEY (an SSH key file) the tag is signed, so a fresh clone can tell it from a forgery.
        let key = context.processEnvironment["TOLLGATE_TAG_SIGNING_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            try await context.git.tag(marker.name, commit: commit, message: marker.message, signingKey: key)
            return marker.name
        } catch {
            context.notice("warning: the apply is recorded, but the git tag '\(marker.name)' could not be written: \(error)")
            return nil
        }
    }
}
