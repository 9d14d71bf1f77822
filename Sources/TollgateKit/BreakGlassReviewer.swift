import Foundation
import TollgateCore

/// Post-hoc review of break-glass releases: who may sign it, and which still wait for one.
public struct BreakGlassReviewer: Sendable {
    public var context: Context

    public init(context: Context) { self.context = context }

    /// A break-glass invocation and whether an eligible second approver has reviewed it.
    public struct Entry: Sendable, Codable, Equatable {
        public var record: BreakGlassRecord
        public var reviewedBy: [String]
        public var needsReview: Bool { reviewedBy.isEmpty }
    }

    public func entries() async throws -> [Entry] {
        var entries: [Entry] = []
        for record in try await context.ledger.breakGlasses() {
            var reviewers: [String] = []
            let excluded = try await excludedReviewers(record)
            let release = try await context.ledger.release(id: record.releaseID)
            for review in try await context.ledger.breakGlassReviews(id: record.id) {
                let valid = await context.verifiesInForce(review.payload, signature: review.signature, principal: review.principal,
                                                          env: record.env, release: release)
                let signed = try? JSONDecoder().decode(JSONValue.self, from: Data(review.payload.utf8))
                guard valid, signed?["break_glass"]?.stringValue == record.id, signed?["signer"]?.stringValue == review.principal,
                      try await eligible(review.principal, env: record.env, release: release), !excluded.contains(review.principal) else { continue }
                if !reviewers.contains(review.principal) { reviewers.append(review.principal) }
            }
            entries.append(Entry(record: record, reviewedBy: reviewers))
        }
        return entries
    }

    /// Whoever invoked it, wrote the release or approved its plans cannot be the second pair of eyes.
    func excludedReviewers(_ record: BreakGlassRecord) async throws -> Set<String> {
        var excluded: Set<String> = [record.actor]
        if let release = try await context.ledger.release(id: record.releaseID) { excluded.insert(release.author) }
        for plan in try await context.ledger.plans(env: record.env, stack: nil) where plan.breakGlass == record.id {
            excluded.insert(plan.planner)
            for approval in try await context.ledger.approvals(planID: plan.id) { excluded.insert(approval.principal) }
        }
        return excluded
    }

    /// Only the environment's approvers in force may review its break-glass (anyone listed where it has no approval gate).
    func eligible(_ principal: String, env: String, release: Release?) async throws -> Bool {
        guard let approvers = try await GovernanceResolver(context: context).approversInForce(env: env, fallback: release) else { return true }
        return approvers.contains(principal)
    }

    /// Signs the post-hoc review of one break-glass invocation.
    public func review(_ id: String, keyPath: String, comment: String?) async throws -> BreakGlassReview {
        guard let record = try await context.ledger.breakGlasses().first(where: { $0.id == id }) else {
            throw KitError.step("no break-glass '\(id)'; 'tollgate status' lists the ones waiting for review")
        }
        let subjects = ["break_glass": id, "env": record.env, "release": record.releaseID]
        let principal = try await context.signer(forKey: keyPath, env: record.env, release: try await context.ledger.release(id: record.releaseID),
                                                 subjects: subjects)
        if try await !eligible(principal, env: record.env, release: try await context.ledger.release(id: record.releaseID)) {
            throw await context.refuse([.init(rule: .approver, message: "\(principal) is not an approver of '\(record.env)', so cannot review its break-glass; ask one of its approvers")],
                                       subjects: subjects)
        }
        if try await excludedReviewers(record).contains(principal) {
            throw await context.refuse([.init(rule: .secondApprover, message: "\(principal) invoked, wrote, planned or approved break-glass '\(id)'; a second approver must review it")],
                                       subjects: subjects)
        }
        let now = context.effects.now()
        let payload = BreakGlassRecord.reviewPayload(record, signer: principal, time: now)
        let signature = try await context.sign(payload, keyPath: keyPath)
        let review = BreakGlassReview(id: "r-" + context.effects.newID(), breakGlassID: id, principal: principal, payload: payload,
                                      signature: signature, comment: comment, createdAt: now)
        try await context.ledger.recordBreakGlassReview(review, event: AuditEntry(
            actor: principal, kind: "breakglass.reviewed", subjects: subjects.merging(["review": review.id]) { a, _ in a },
            payload: ["comment": JSONValue(comment)]))
        return review
    }
}
