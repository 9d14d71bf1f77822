import Foundation
import TollgateCore

/// A ledger a preview (or a read-only command before any ledger exists) reads and can never write: every read goes to the ledger in use (none at all
/// when the embedded ledger was never created, which reads as an empty one), every write throws.
///
/// A preview needs only what a read-only role may do (a pull request from a fork holds no write
/// rights), and whatever a flow under it tries to record fails here instead of reaching the store.
public struct ReadOnlyLedger: Ledger {
    /// The ledger read from; nil reads as an empty ledger.
    public var base: (any Ledger)?

    public init(_ base: (any Ledger)?) { self.base = base }

    func refused(_ what: String) -> KitError {
        .step("a preview or a read-only command writes nothing to the ledger, but it tried to record \(what); this is a bug in tollgate, report it with the command line")
    }

    public func recordRelease(_ release: Release, event: AuditEntry) async throws { throw refused("a release") }
    public func release(id: String) async throws -> Release? { try await base?.release(id: id) }
    public func releases() async throws -> [Release] { try await base?.releases() ?? [] }

    public func recordPlan(_ plan: PlanRecord, event: AuditEntry) async throws { throw refused("a plan") }
    public func plan(id: String) async throws -> PlanRecord? { try await base?.plan(id: id) }
    public func plans(env: String?, stack: String?) async throws -> [PlanRecord] { try await base?.plans(env: env, stack: stack) ?? [] }
    public func latestPlan(env: String, stack: String, status: PlanRecord.Status) async throws -> PlanRecord? {
        try await base?.latestPlan(env: env, stack: stack, status: status)
    }
    public func setPlanStatus(_ id: String, _ status: PlanRecord.Status, event: AuditEntry) async throws { throw refused("a plan's status") }

    public func recordApproval(_ approval: ApprovalRecord, event: AuditEntry) async throws { throw refused("an approval") }
    public func approvals(planID: String) async throws -> [ApprovalRecord] { try await base?.approvals(planID: planID) ?? [] }

    public func beginApply(_ apply: ApplyRecord, lock: LockRecord, event: AuditEntry) async throws -> LockRecord? { throw refused("an apply") }
    public func renewLease(applyID: String, until: Date) async throws -> Bool { throw refused("a lease") }
    public func expireLease(env: String, stack: String, at: Date, event: AuditEntry) async throws -> LockRecord? { throw refused("a lease") }
    public func finishApply(id: String, outcome: ApplyRecord.Outcome, planStatus: PlanRecord.Status?, detail: String?, at time: Date,
                            lineage: String?, event: AuditEntry) async throws -> LastGood? { throw refused("an apply") }
    public func applies(env: String?, stack: String?) async throws -> [ApplyRecord] { try await base?.applies(env: env, stack: stack) ?? [] }
    public func latestApply(env: String, stack: String) async throws -> ApplyRecord? { try await base?.latestApply(env: env, stack: stack) }
    public func locks() async throws -> [LockRecord] { try await base?.locks() ?? [] }
    public func releaseLock(env: String, stack: String, event: AuditEntry) async throws -> LockRecord? { throw refused("a lock") }

    public func lastGood(env: String, stack: String) async throws -> LastGood? { try await base?.lastGood(env: env, stack: stack) }
    public func pinnedLineage(env: String, stack: String) async throws -> String? { try await base?.pinnedLineage(env: env, stack: stack) }
    public func lineageOwners(_ lineage: String) async throws -> [(env: String, stack: String)] { try await base?.lineageOwners(lineage) ?? [] }

    public func recordDrift(_ report: DriftReport, event: AuditEntry) async throws { throw refused("a drift result") }
    public func drifts(env: String, stack: String) async throws -> [DriftReport] { try await base?.drifts(env: env, stack: stack) ?? [] }
    public func recordDriftAcknowledgement(_ acknowledgement: DriftAcknowledgement, event: AuditEntry) async throws {
        throw refused("a drift acknowledgement")
    }
    public func driftAcknowledgements(env: String, stack: String) async throws -> [DriftAcknowledgement] {
        try await base?.driftAcknowledgements(env: env, stack: stack) ?? []
    }

    public func saveEphemeral(_ record: EphemeralRecord, event: AuditEntry) async throws { throw refused("an ephemeral copy") }
    public func ephemeral(name: String) async throws -> EphemeralRecord? { try await base?.ephemeral(name: name) }
    public func ephemerals() async throws -> [EphemeralRecord] { try await base?.ephemerals() ?? [] }

    public func recordBreakGlass(_ record: BreakGlassRecord, event: AuditEntry) async throws { throw refused("a break-glass") }
    public func breakGlasses() async throws -> [BreakGlassRecord] { try await base?.breakGlasses() ?? [] }
    public func recordBreakGlassReview(_ review: BreakGlassReview, event: AuditEntry) async throws { throw refused("a break-glass review") }
    public func breakGlassReviews(id: String) async throws -> [BreakGlassReview] { try await base?.breakGlassReviews(id: id) ?? [] }

    public func appendEvent(_ event: AuditEntry) async throws { throw refused("an audit event") }
    public func events() async throws -> [AuditEvent] { try await base?.events() ?? [] }
    public func storedEvents() async throws -> [StoredAuditEvent] { try await base?.storedEvents() ?? [] }
    public func auditHead() async throws -> AuditHead? { try await base?.auditHead() }
    public func auditHash(seq: Int) async throws -> String? { try await base?.auditHash(seq: seq) }
}
