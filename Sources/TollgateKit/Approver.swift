import Foundation
import TollgateCore

/// Signs a decision on one plan with the approver's SSH key.
///
/// The principal comes from the repository's allowed_signers, never from the caller. Approvals that
/// can never count (author, planner, not an approver of the environment, key not listed) are
/// refused here too, so the approver learns at once rather than at apply time.
public struct Approver: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    public func decide(plan reference: String, decision: ApprovalRecord.Decision, keyPath: String, comment: String?,
                       acknowledgeDestroy: [String] = []) async throws -> ApprovalRecord {
        let plan = try await context.plan(reference)
        let release = try await context.release(plan.releaseID)
        let environment = try context.environment(plan.env)
        let subjects = ["plan": plan.id, "release": release.id, "env": plan.env, "stack": plan.stack]
        let principals = try await context.signatures.principals(forKey: keyPath, allowedSigners: context.allowedSignersPath)
        guard let principal = principals.first else {
            throw await context.refuse([.init(rule: "signer", message: "the key '\(keyPath)' is not in \(context.allowedSignersPath), so its signature would prove nothing; add its public key there (through a reviewed change) or sign with a listed key")], subjects: subjects)
        }
        if decision == .approve {
            var refusals: [GateDecision.Refusal] = []
            if case .approval(let gate) = environment.gate.value, !gate.approvers.contains(principal) {
                refusals.append(.init(rule: "approver", message: "\(principal) is not an approver of '\(plan.env)' (approvers: \(gate.approvers.joined(separator: ", "))); ask one of them"))
            }
            if principal == release.author {
                refusals.append(.init(rule: "author", message: "\(principal) wrote this release (commit \(release.commit.prefix(12))) and cannot approve it; ask another approver"))
            }
            if principal == plan.planner {
                refusals.append(.init(rule: "planner", message: "\(principal) made plan '\(plan.id)' and cannot approve it; ask another approver"))
            }
            for address in acknowledgeDestroy where !plan.summary.destructive.contains(address) {
                refusals.append(.init(rule: "acknowledge", message: "plan '\(plan.id)' does not delete or replace '\(address)'; acknowledge only what it destroys (\(plan.summary.destructive.joined(separator: ", ")))"))
            }
            if plan.status != .pending {
                refusals.append(.init(rule: "status", message: "plan '\(plan.id)' is \(plan.status.rawValue); approve its newer plan instead"))
            }
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
                      "acknowledge_destroy": .array(acknowledgeDestroy.sorted().map(JSONValue.string))]))
        return record
    }

    /// Every approval of a plan with its signature checked against allowed_signers as it is now.
    public func verified(_ plan: PlanRecord) async throws -> [VerifiedApproval] {
        var result: [VerifiedApproval] = []
        for record in try await context.ledger.approvals(planID: plan.id) {
            let valid = (try? await context.signatures.verify(record.payload, signature: record.signature, principal: record.principal,
                                                             allowedSigners: context.allowedSignersPath)) ?? false
            result.append(VerifiedApproval(record: record, verifiedPrincipal: valid ? record.principal : nil))
        }
        return result
    }
}
