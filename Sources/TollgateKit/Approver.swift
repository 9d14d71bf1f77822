import Foundation
import TollgateCore

/// Signs a decision on one plan with the approver's SSH key.
///
/// The principal comes from the signers file the gate in force trusts, never from the caller or the working tree. Approvals that
/// can never count (author, planner, not an approver of the environment, key not listed) are
/// refused here too, so the approver learns at once rather than at apply time.
public struct Approver: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    public func decide(plan reference: String, decision: ApprovalRecord.Decision, keyPath: String, comment: String?,
                       acknowledgeDestroy: [String] = []) async throws -> ApprovalRecord {
        let plan = try await context.plan(reference)
        let release = try await context.release(plan.releaseID)
        let context = try await self.context.sealed(release)
        let subjects = ["plan": plan.id, "release": release.id, "env": plan.env, "stack": plan.stack]
        // The signer is whoever the signers file of the gate that judges this plan names: the one in
        // force for the environment, never the working tree's.
        let judged = try await Applier(context: context).judged(plan, release: release)
        let judgement = judged.judgement
        guard let signers = judgement.signersPath else {
            throw await context.refuse([.init(rule: .signer, message: "\(judgement.signersOrigin) does not exist, so no signature can be checked; commit the signers file and cut a release that passes the gate in force")], subjects: subjects)
        }
        let principals = try await context.signatures.principals(forKey: keyPath, allowedSigners: signers)
        guard let principal = principals.first else {
            throw await context.refuse([.init(rule: .signer, message: "the key '\(keyPath)' is not in \(judgement.signersOrigin), so its signature would prove nothing; a key added to a checkout or to this release counts only once a release carrying it has passed the gate in force, so sign with a key listed there")], subjects: subjects)
        }
        if !isPlainPrincipal(principal) {
            throw await context.refuse([.init(rule: .signer, message: "the key '\(keyPath)' is listed in \(judgement.signersOrigin) under the pattern '\(principal)', which names no one person; list approval keys under a plain principal (an email) through a reviewed change")], subjects: subjects)
        }
        if decision == .approve {
            var refusals: [GateDecision.Refusal] = []
            if let gate = judgement.effective.approval, !gate.approvers.contains(principal) {
                let inForce = judgement.effective.changes.isEmpty ? "" : " under the governance in force"
                refusals.append(.init(rule: .approver, message: "\(principal) is not an approver of '\(plan.env)'\(inForce) (approvers: \(gate.approvers.joined(separator: ", "))); ask one of them"))
            }
            if judgement.authors.contains(principal) {
                refusals.append(.init(rule: .author, message: judgement.authors == [release.author] && !judgement.authorshipVerified
                    ? "\(principal) wrote this release (commit \(release.commit.prefix(12))) and cannot approve it; ask another approver"
                    : "\(principal) wrote a commit of this release since '\(plan.env)'s last-good and cannot approve it; ask another approver"))
            }
            if principal == plan.planner {
                refusals.append(.init(rule: .planner, message: "\(principal) made plan '\(plan.id)' and cannot approve it; ask another approver"))
            }
            if let id = plan.breakGlass, let invoked = try await context.ledger.breakGlasses().first(where: { $0.id == id }), invoked.actor == principal {
                refusals.append(.init(rule: .approver, message: "\(principal) invoked break-glass '\(id)' for this plan and cannot approve it; ask another approver"))
            }
            for address in acknowledgeDestroy where !plan.summary.destructive.contains(address) {
                refusals.append(.init(rule: .acknowledge, message: "plan '\(plan.id)' does not delete or replace '\(address)'; acknowledge only what it destroys (\(plan.summary.destructive.joined(separator: ", ")))"))
            }
            if plan.status != .pending {
                refusals.append(.init(rule: .status, message: "plan '\(plan.id)' is \(plan.status.rawValue); approve its newer plan instead"))
            }
            // Rejecting a broken plan is fine; approving one is not.
            refusals += plan.summary.blockers.map { .init(rule: .incomplete, message: "plan '\(plan.id)' cannot be approved: \($0)") }
            if !refusals.isEmpty { throw await context.refuse(refusals, subjects: subjects.merging(["principal": principal]) { a, _ in a }) }
        }
        let now = context.effects.now()
        let payload = ApprovalPayload(decision: decision, env: plan.env, stack: plan.stack, planDigest: plan.digest,
                                      releaseDigest: release.id, signer: principal, time: now, acknowledgeDestroy: acknowledgeDestroy).canonical
        let signature = try await context.sign(payload, keyPath: keyPath)
        let record = ApprovalRecord(id: "a-" + context.effects.newID(), planID: plan.id, decision: decision, principal: principal,
                                    payload: payload, signature: signature, comment: comment, createdAt: now)
        try await context.ledger.recordApproval(record, event: AuditEntry(
            actor: principal, kind: decision == .approve ? "plan.approved" : "plan.rejected",
            subjects: subjects.merging(["approval": record.id]) { a, _ in a },
            payload: ["principal": .string(principal), "plan_digest": .string(plan.digest), "comment": JSONValue(comment),
                      "acknowledge_destroy": .array(acknowledgeDestroy.sorted().map(JSONValue.string)),
                      "judged_by": .string(judgement.effective.judgedBy),
                      "governance_changes": .array(judgement.effective.changes.map { .string($0.description) })]))
        return record
    }

    /// Every approval of a plan with its signature checked against the given signers file (the one
    /// the gate trusts); with no file, nothing verifies.
    public func verified(_ plan: PlanRecord, signers: String?) async throws -> [VerifiedApproval] {
        var result: [VerifiedApproval] = []
        for record in try await context.ledger.approvals(planID: plan.id) {
            var valid = false
            if let signers {
                valid = (try? await context.signatures.verify(record.payload, signature: record.signature, principal: record.principal,
                                                             allowedSigners: signers)) ?? false
            }
            result.append(VerifiedApproval(record: record, verifiedPrincipal: valid ? record.principal : nil))
        }
        return result
    }

    /// Approvals checked after the fact (trace, history) against the signers file sealed in the
    /// plan's own release: never the working tree's.
    public func verifiedAsSealed(_ plan: PlanRecord, release: Release) async throws -> [VerifiedApproval] {
        let resolver = GovernanceResolver(context: context)
        let sealed = try? await resolver.sealed(release, env: plan.env).signers
        let signers = try? resolver.write(sealed ?? nil)
        return try await verified(plan, signers: signers ?? nil)
    }
}
