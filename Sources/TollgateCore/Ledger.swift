import Foundation

/// The port to tollgate's record of releases, plans, approvals, applies, locks and audit events.
///
/// Methods are named for intent and each is one transaction that also appends its audit event, so
/// the record and the chain never disagree. A SQLite and a Postgres implementation pass the same
/// contract tests.
public protocol Ledger: Sendable {
    func recordRelease(_ release: Release, event: AuditEntry) async throws
    func release(id: String) async throws -> Release?
    func releases() async throws -> [Release]

    /// Records a plan; earlier pending plans of the same (env, stack) become superseded.
    func recordPlan(_ plan: PlanRecord, event: AuditEntry) async throws
    func plan(id: String) async throws -> PlanRecord?
    func plans(env: String?, stack: String?) async throws -> [PlanRecord]
    /// The newest plan of (env, stack) with this status, without reading the others (`status`).
    func latestPlan(env: String, stack: String, status: PlanRecord.Status) async throws -> PlanRecord?
    func setPlanStatus(_ id: String, _ status: PlanRecord.Status, event: AuditEntry) async throws

    func recordApproval(_ approval: ApprovalRecord, event: AuditEntry) async throws
    func approvals(planID: String) async throws -> [ApprovalRecord]

    /// Takes the (env, stack) lock as a lease (numbering it with the next fencing token) and records
    /// the apply as running, or returns the current holder, whose lease may have expired.
    func beginApply(_ apply: ApplyRecord, lock: LockRecord, event: AuditEntry) async throws -> LockRecord?
    /// Extends the lease of the apply's lock; false when the apply no longer holds it.
    func renewLease(applyID: String, until: Date) async throws -> Bool
    /// Releases the (env, stack) lock only when its lease expired before `at`, marking the apply it
    /// guarded interrupted; returns the expired lock, or nil when there was none or it is still live.
    func expireLease(env: String, stack: String, at: Date, event: AuditEntry) async throws -> LockRecord?
    /// Records the outcome, sets the plan's status when given, releases the lock, and on success
    /// updates last-good (and pins the lineage on first apply). Returns the new last-good on success.
    /// Throws `LeaseLost`, recording nothing, when the apply no longer holds its (env, stack) lock.
    func finishApply(id: String, outcome: ApplyRecord.Outcome, planStatus: PlanRecord.Status?, detail: String?, at time: Date,
                     lineage: String?, event: AuditEntry) async throws -> LastGood?
    func applies(env: String?, stack: String?) async throws -> [ApplyRecord]
    /// The newest apply of (env, stack), without reading the others (`status`).
    func latestApply(env: String, stack: String) async throws -> ApplyRecord?
    func locks() async throws -> [LockRecord]
    /// Releases a lock whose holder is gone; a running apply it guarded is marked interrupted.
    func releaseLock(env: String, stack: String, event: AuditEntry) async throws -> LockRecord?

    func lastGood(env: String, stack: String) async throws -> LastGood?
    func pinnedLineage(env: String, stack: String) async throws -> String?
    /// Every (env, stack) whose state is pinned to this lineage.
    func lineageOwners(_ lineage: String) async throws -> [(env: String, stack: String)]

    /// Records one drift run's result, drifted or clean.
    func recordDrift(_ report: DriftReport, event: AuditEntry) async throws
    /// Drift results of (env, stack), oldest first.
    func drifts(env: String, stack: String) async throws -> [DriftReport]
    func recordDriftAcknowledgement(_ acknowledgement: DriftAcknowledgement, event: AuditEntry) async throws
    func driftAcknowledgements(env: String, stack: String) async throws -> [DriftAcknowledgement]

    /// Inserts or updates an ephemeral copy's record.
    func saveEphemeral(_ record: EphemeralRecord, event: AuditEntry) async throws
    func ephemeral(name: String) async throws -> EphemeralRecord?
    func ephemerals() async throws -> [EphemeralRecord]

    func recordBreakGlass(_ record: BreakGlassRecord, event: AuditEntry) async throws
    func breakGlasses() async throws -> [BreakGlassRecord]
    func recordBreakGlassReview(_ review: BreakGlassReview, event: AuditEntry) async throws
    func breakGlassReviews(id: String) async throws -> [BreakGlassReview]

    /// Appends an event on its own (refusals, verification results).
    func appendEvent(_ event: AuditEntry) async throws
    func events() async throws -> [AuditEvent]
    /// Every event as stored, in the order written: what `audit verify` hashes and `audit export` writes.
    func storedEvents() async throws -> [StoredAuditEvent]
    /// The last event's seq and hash, nil for an empty log: read after every command to anchor the chain, so it must be cheap.
    func auditHead() async throws -> AuditHead?
    /// The hash of event `seq`, nil when the log holds no such event: how an anchor is checked before it is moved on.
    func auditHash(seq: Int) async throws -> String?
}

/// The port to the content-addressed artifact store (release bundles, plan files).
public protocol ArtifactStore: Sendable {
    /// Stores bytes and returns their `sha256:` id.
    func put(_ data: Data) async throws -> String
    /// The bytes for an id, re-hashed on read: a mismatch is an error, never silently returned.
    func get(_ id: String) async throws -> Data
}

/// Raw bytes kept under an id the caller chooses: the storage an `EncryptedArtifactStore` seals into.
///
/// An `ArtifactStore` names content by the digest of the bytes it is given, but an encrypted
/// artifact must keep the digest of its plaintext as its id (approvals sign that digest), so the
/// envelope is written under that id through this narrower port. `FileBlobStore` keeps blobs as
/// files; a database store keeps them as rows.
public protocol BlobStore: Sendable {
    /// Stores `bytes` under `id`, replacing what was there (rotation rewrites blobs in place). A
    /// reader sees the old bytes or the new ones, never a mix.
    func write(id: String, bytes: Data) async throws
    /// The bytes under `id`, or nil when there are none.
    func read(id: String) async throws -> Data?
    /// Every id that holds a blob, in no particular order.
    func ids() async throws -> [String]
    /// Where the blob of `id` is kept (a path, a table row), for messages.
    func location(of id: String) -> String
    /// Marks a blob as just stored, so collection of unreferenced artifacts keeps it; false when it
    /// is not there. Stores that never collect keep the default, which only checks it is there.
    func touch(id: String) async throws -> Bool
}

extension BlobStore {
    public func location(of id: String) -> String { "blob \(id)" }
    public func touch(id: String) async throws -> Bool { try await read(id: id) != nil }
}

/// One table of a ledger copied as it is stored, for `tollgate ledger migrate`: the same columns in
/// both stores, values as the store keeps them (times in milliseconds, JSON as text).
public struct LedgerTable: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case text(String)
    }

    public var name: String
    public var columns: [String]
    public var rows: [[Value]]

    public init(name: String, columns: [String], rows: [[Value]]) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }

    /// Every table of the ledger in an order that satisfies the foreign keys, with its columns.
    public static let schema: [(name: String, columns: [String])] = [
        ("releases", ["id", "commit_sha", "branch", "pr", "author", "created_at", "files"]),
        ("break_glass", ["id", "release_id", "env", "reason", "actor", "created_at"]),
        ("plans", ["id", "release_id", "env", "stack", "digest", "summary", "has_changes", "prior_serial", "prior_lineage", "planner",
                   "engine_kind", "engine_version", "created_at", "status", "checks", "break_glass"]),
        ("approvals", ["id", "plan_id", "decision", "principal", "payload", "signature", "comment", "created_at"]),
        ("applies", ["id", "plan_id", "env", "stack", "actor", "started_at", "finished_at", "outcome", "detail"]),
        ("locks", ["env", "stack", "apply_id", "holder", "host", "pid", "acquired_at", "expires_at", "token", "run_url"]),
        ("lock_tokens", ["env", "stack", "token"]),
        ("last_good", ["env", "stack", "release_id", "plan_id", "apply_id", "sequence", "applied_at"]),
        ("lineages", ["env", "stack", "lineage", "pinned_at"]),
        ("drifts", ["id", "env", "stack", "release_id", "actor", "detected_at", "resources"]),
        ("drift_acknowledgements", ["id", "drift_id", "env", "stack", "principal", "payload", "signature", "comment", "created_at"]),
        ("ephemerals", ["name", "like_env", "release_id", "status", "actor", "created_at", "expires_at", "detail", "tests"]),
        ("break_glass_reviews", ["id", "break_glass_id", "principal", "payload", "signature", "comment", "created_at"]),
        ("events", ["seq", "time", "actor", "kind", "subjects", "payload", "prev_hash", "hash"]),
    ]
}
