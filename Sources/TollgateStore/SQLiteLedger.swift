import Foundation
import GRDB
import TollgateCore

/// The embedded ledger: SQLite through GRDB, WAL mode, migrations versioned in code.
///
/// Every method is one write transaction that also appends its audit event, so a crash leaves
/// either both or neither. The schema enforces what it can: foreign keys, unique plan digests, one
/// lock per (env, stack), and an append-only events table.
public final class SQLiteLedger: Ledger {
    let pool: DatabasePool
    let effects: Effects
    /// The CI run written into every event's payload, when there is one.
    let ci: CIContext?

    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date. Events it
    /// appends carry `ci` in their hashed payload.
    public init(path: String, effects: Effects, ci: CIContext? = nil) throws {
        self.ci = ci
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(30)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw LedgerError.unavailable(path: path, reason: "\(error)")
        }
        self.effects = effects
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: releases, plans, approvals, applies, locks, last-good, lineage, events") { db in
            try db.execute(sql: """
                CREATE TABLE releases (
                    id TEXT PRIMARY KEY NOT NULL CHECK (id LIKE 'sha256:%'),
                    commit_sha TEXT NOT NULL,
                    branch TEXT,
                    pr INTEGER,
                    author TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    files TEXT NOT NULL
                );
                CREATE TABLE plans (
                    id TEXT PRIMARY KEY NOT NULL,
                    release_id TEXT NOT NULL REFERENCES releases(id),
                    env TEXT NOT NULL,
                    stack TEXT NOT NULL,
                    digest TEXT NOT NULL UNIQUE CHECK (digest LIKE 'sha256:%'),
                    summary TEXT NOT NULL,
                    has_changes INTEGER NOT NULL,
                    prior_serial INTEGER NOT NULL,
                    prior_lineage TEXT NOT NULL,
                    planner TEXT NOT NULL,
                    engine_kind TEXT NOT NULL,
                    engine_version TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'failed', 'stale', 'superseded'))
                );
                CREATE INDEX plans_by_target ON plans(env, stack, created_at);
                CREATE TABLE approvals (
                    id TEXT PRIMARY KEY NOT NULL,
                    plan_id TEXT NOT NULL REFERENCES plans(id),
                    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
                    principal TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    comment TEXT,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE applies (
                    id TEXT PRIMARY KEY NOT NULL,
                    plan_id TEXT NOT NULL REFERENCES plans(id),
                    env TEXT NOT NULL,
                    stack TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER,
                    outcome TEXT NOT NULL CHECK (outcome IN ('running', 'success', 'failed', 'interrupted')),
                    detail TEXT
                );
                CREATE TABLE locks (
                    env TEXT NOT NULL,
                    stack TEXT NOT NULL,
                    apply_id TEXT NOT NULL REFERENCES applies(id),
                    holder TEXT NOT NULL,
                    host TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    acquired_at INTEGER NOT NULL,
                    PRIMARY KEY (env, stack)
                );
                CREATE TABLE last_good (
                    env TEXT NOT NULL,
                    stack TEXT NOT NULL,
                    release_id TEXT NOT NULL REFERENCES releases(id),
                    plan_id TEXT NOT NULL REFERENCES plans(id),
                    apply_id TEXT NOT NULL REFERENCES applies(id),
                    sequence INTEGER NOT NULL,
                    applied_at INTEGER NOT NULL,
                    PRIMARY KEY (env, stack)
                );
                CREATE TABLE lineages (
                    env TEXT NOT NULL,
                    stack TEXT NOT NULL,
                    lineage TEXT NOT NULL,
                    pinned_at INTEGER NOT NULL,
                    PRIMARY KEY (env, stack)
                );
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY NOT NULL,
                    time INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    subjects TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE
                );
                CREATE TRIGGER events_no_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
                CREATE TRIGGER events_no_delete BEFORE DELETE ON events
                    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
                """)
        }
        migrator.registerMigration("v2: check results stored with each plan") { db in
            try db.execute(sql: "ALTER TABLE plans ADD COLUMN checks TEXT NOT NULL DEFAULT '[]'")
        }
        migrator.registerMigration("v3: drift results and their signed acknowledgements") { db in
            try db.execute(sql: """
                CREATE TABLE drifts (
                    id TEXT PRIMARY KEY NOT NULL,
                    env TEXT NOT NULL,
                    stack TEXT NOT NULL,
                    release_id TEXT NOT NULL REFERENCES releases(id),
                    actor TEXT NOT NULL,
                    detected_at INTEGER NOT NULL,
                    resources TEXT NOT NULL
                );
                CREATE INDEX drifts_by_target ON drifts(env, stack, detected_at);
                CREATE TABLE drift_acknowledgements (
                    id TEXT PRIMARY KEY NOT NULL,
                    drift_id TEXT NOT NULL REFERENCES drifts(id),
                    env TEXT NOT NULL,
                    stack TEXT NOT NULL,
                    principal TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    comment TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4: ephemeral environments") { db in
            try db.execute(sql: """
                CREATE TABLE ephemerals (
                    name TEXT PRIMARY KEY NOT NULL,
                    like_env TEXT NOT NULL,
                    release_id TEXT NOT NULL REFERENCES releases(id),
                    status TEXT NOT NULL CHECK (status IN ('creating', 'up', 'failed', 'destroying', 'down', 'destroy-failed')),
                    actor TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    detail TEXT,
                    tests TEXT NOT NULL DEFAULT '[]'
                );
                """)
        }
        migrator.registerMigration("v5: break-glass plans and their post-hoc reviews") { db in
            try db.execute(sql: """
                CREATE TABLE break_glass (
                    id TEXT PRIMARY KEY NOT NULL,
                    release_id TEXT NOT NULL REFERENCES releases(id),
                    env TEXT NOT NULL,
                    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
                    actor TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE break_glass_reviews (
                    id TEXT PRIMARY KEY NOT NULL,
                    break_glass_id TEXT NOT NULL REFERENCES break_glass(id),
                    principal TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    comment TEXT,
                    created_at INTEGER NOT NULL
                );
                ALTER TABLE plans ADD COLUMN break_glass TEXT REFERENCES break_glass(id);
                """)
        }
        migrator.registerMigration("v6: locks are leases with an expiry, a fencing token and the CI run") { db in
            try db.execute(sql: """
                ALTER TABLE locks ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE locks ADD COLUMN token INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE locks ADD COLUMN run_url TEXT;
                CREATE TABLE lock_tokens (
                    env TEXT NOT NULL,
                    stack TEXT NOT NULL,
                    token INTEGER NOT NULL CHECK (token > 0),
                    PRIMARY KEY (env, stack)
                );
                """)
        }
        return migrator
    }

    // MARK: - Events

    static func append(_ entry: AuditEntry, in db: Database, at time: Date, ci: CIContext?) throws {
        let entry = entry.stamped(ci)
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        let previous = last.map { (seq: $0["seq"] as Int, hash: $0["hash"] as String) }
        let event = AuditChain.append(entry, after: previous, at: time)
        try db.execute(sql: """
            INSERT INTO events (seq, time, actor, kind, subjects, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [event.seq, AuditChain.milliseconds(event.time), event.actor, event.kind,
                             CanonicalJSON.encode(.object(event.subjects.mapValues(JSONValue.string))),
                             CanonicalJSON.encode(event.payload), event.prevHash, event.hash])
    }

    func write<T: Sendable>(_ entry: AuditEntry?, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let now = effects.now()
        do {
            return try await pool.write { db in
                let result = try body(db)
                if let entry { try Self.append(entry, in: db, at: now, ci: self.ci) }
                return result
            }
        } catch let error as LedgerError {
            throw error
        } catch let error as LeaseLost {
            throw error
        } catch {
            throw LedgerError.writeFailed("\(error)")
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError.readFailed("\(error)")
        }
    }

    /// Every table as stored, in insertion order, for `tollgate ledger migrate`.
    public func tables() async throws -> [LedgerTable] {
        try await read { db in
            try LedgerTable.schema.map { table in
                let rows = try Row.fetchAll(db, sql: "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.name) ORDER BY rowid").map { row in
                    table.columns.map { column -> LedgerTable.Value in
                        switch row[column] as DatabaseValue {
                        case let value where value.isNull: return .null
                        case let value: if let number = Int64.fromDatabaseValue(value) { return .integer(number) }
                            return .text(String.fromDatabaseValue(value) ?? "")
                        }
                    }
                }
                return LedgerTable(name: table.name, columns: table.columns, rows: rows)
            }
        }
    }

    public func appendEvent(_ event: AuditEntry) async throws {
        try await write(event) { _ in }
    }

    public func events() async throws -> [AuditEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY rowid").map(Self.event)
        }
    }

    public func storedEvents() async throws -> [StoredAuditEvent] {
        try await read { db in
            var events: [StoredAuditEvent] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, time, actor, kind, subjects, payload, prev_hash, hash FROM events ORDER BY rowid")
            while let row = try rows.next() {
                events.append(StoredAuditEvent(seq: row[0], time: row[1], actor: row[2], kind: row[3], subjects: row[4], payload: row[5],
                                               prevHash: row[6], hash: row[7]))
            }
            return events
        }
    }

    public func auditHead() async throws -> AuditHead? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").map { AuditHead(seq: $0["seq"], hash: $0["hash"]) }
        }
    }

    public func auditHash(seq: Int) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT hash FROM events WHERE seq = ?", arguments: [seq]) }
    }

    static func event(_ row: Row) throws -> AuditEvent {
        let id = "\(row["seq"] as Int)"
        let subjects = try decoded([String: String].self, row, table: "events", id: id, column: "subjects")
        let payload = try decoded(JSONValue.self, row, table: "events", id: id, column: "payload")
        return AuditEvent(seq: row["seq"], time: AuditChain.date(milliseconds: row["time"]), actor: row["actor"], kind: row["kind"],
                          subjects: subjects, payload: payload, prevHash: row["prev_hash"], hash: row["hash"])
    }

    // MARK: - Releases

    public func recordRelease(_ release: Release, event: AuditEntry) async throws {
        try await write(event) { db in
            // The same content cut again (a docs-only commit) is the same release: keep the first record.
            try db.execute(sql: """
                INSERT INTO releases (id, commit_sha, branch, pr, author, created_at, files) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO NOTHING
                """, arguments: [release.id, release.commit, release.branch, release.pr, release.author,
                                 AuditChain.milliseconds(release.createdAt), Self.json(release.files)])
        }
    }

    public func release(id: String) async throws -> Release? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM releases WHERE id = ?", arguments: [id]).map(Self.release) }
    }

    public func releases() async throws -> [Release] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM releases ORDER BY created_at, id").map(Self.release) }
    }

    static func release(_ row: Row) throws -> Release {
        Release(id: row["id"], commit: row["commit_sha"], branch: row["branch"], pr: row["pr"], author: row["author"],
                createdAt: AuditChain.date(milliseconds: row["created_at"]),
                files: try decoded([String].self, row, table: "releases", id: row["id"], column: "files"))
    }

    // MARK: - Plans

    public func recordPlan(_ plan: PlanRecord, event: AuditEntry) async throws {
        try await write(event) { db in
            try db.execute(sql: "UPDATE plans SET status = 'superseded' WHERE env = ? AND stack = ? AND status = 'pending'",
                           arguments: [plan.env, plan.stack])
            try db.execute(sql: """
                INSERT INTO plans (id, release_id, env, stack, digest, summary, has_changes, prior_serial, prior_lineage, planner,
                                   engine_kind, engine_version, created_at, status, checks, break_glass)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [plan.id, plan.releaseID, plan.env, plan.stack, plan.digest, Self.json(plan.summary), plan.hasChanges,
                                 plan.priorSerial, plan.priorLineage, plan.planner, plan.engineKind, plan.engineVersion,
                                 AuditChain.milliseconds(plan.createdAt), plan.status.rawValue, Self.json(plan.checks), plan.breakGlass])
        }
    }

    public func plan(id: String) async throws -> PlanRecord? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM plans WHERE id = ?", arguments: [id]).map(Self.plan) }
    }

    public func plans(env: String?, stack: String?) async throws -> [PlanRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM plans WHERE (?1 IS NULL OR env = ?1) AND (?2 IS NULL OR stack = ?2) ORDER BY created_at, rowid
                """, arguments: [env, stack]).map(Self.plan)
        }
    }

    public func setPlanStatus(_ id: String, _ status: PlanRecord.Status, event: AuditEntry) async throws {
        try await write(event) { db in
            try db.execute(sql: "UPDATE plans SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
        }
    }

    static func plan(_ row: Row) throws -> PlanRecord {
        PlanRecord(id: row["id"], releaseID: row["release_id"], env: row["env"], stack: row["stack"], digest: row["digest"],
                   summary: try decoded(PlanSummary.self, row, table: "plans", id: row["id"], column: "summary"),
                   hasChanges: row["has_changes"], priorSerial: row["prior_serial"], priorLineage: row["prior_lineage"],
                   planner: row["planner"], engineKind: row["engine_kind"], engineVersion: row["engine_version"],
                   createdAt: AuditChain.date(milliseconds: row["created_at"]),
                   status: try value(PlanRecord.Status.self, row, table: "plans", id: row["id"], column: "status"),
                   checks: try decoded([CheckResult].self, row, table: "plans", id: row["id"], column: "checks"),
                   breakGlass: row["break_glass"])
    }

    // MARK: - Approvals

    public func recordApproval(_ approval: ApprovalRecord, event: AuditEntry) async throws {
        try await write(event) { db in
            try db.execute(sql: """
                INSERT INTO approvals (id, plan_id, decision, principal, payload, signature, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [approval.id, approval.planID, approval.decision.rawValue, approval.principal, approval.payload,
                                 approval.signature, approval.comment, AuditChain.milliseconds(approval.createdAt)])
        }
    }

    public func approvals(planID: String) async throws -> [ApprovalRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approvals WHERE plan_id = ? ORDER BY created_at, rowid", arguments: [planID]).map { row in
                ApprovalRecord(id: row["id"], planID: row["plan_id"], decision: try Self.value(ApprovalRecord.Decision.self, row, table: "approvals", id: row["id"], column: "decision"),
                               principal: row["principal"], payload: row["payload"], signature: row["signature"], comment: row["comment"],
                               createdAt: AuditChain.date(milliseconds: row["created_at"]))
            }
        }
    }

    // MARK: - Applies and locks

    public func beginApply(_ apply: ApplyRecord, lock: LockRecord, event: AuditEntry) async throws -> LockRecord? {
        let now = effects.now()
        do {
            return try await pool.write { db -> LockRecord? in
                if let held = try Row.fetchOne(db, sql: "SELECT * FROM locks WHERE env = ? AND stack = ?", arguments: [lock.env, lock.stack]) {
                    return Self.lock(held)
                }
                try db.execute(sql: """
                    INSERT INTO applies (id, plan_id, env, stack, actor, started_at, outcome) VALUES (?, ?, ?, ?, ?, ?, 'running')
                    """, arguments: [apply.id, apply.planID, apply.env, apply.stack, apply.actor, AuditChain.milliseconds(apply.startedAt)])
                try db.execute(sql: """
                    INSERT INTO lock_tokens (env, stack, token) VALUES (?, ?, 1) ON CONFLICT(env, stack) DO UPDATE SET token = token + 1
                    """, arguments: [lock.env, lock.stack])
                let token = try Int64.fetchOne(db, sql: "SELECT token FROM lock_tokens WHERE env = ? AND stack = ?", arguments: [lock.env, lock.stack]) ?? 1
                try db.execute(sql: """
                    INSERT INTO locks (env, stack, apply_id, holder, host, pid, acquired_at, expires_at, token, run_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [lock.env, lock.stack, lock.applyID, lock.holder, lock.host, lock.pid, AuditChain.milliseconds(lock.acquiredAt),
                                     AuditChain.milliseconds(lock.expiresAt), token, lock.runURL])
                try Self.append(event, in: db, at: now, ci: self.ci)
                return nil
            }
        } catch {
            throw LedgerError.writeFailed("\(error)")
        }
    }

    public func finishApply(id: String, outcome: ApplyRecord.Outcome, planStatus: PlanRecord.Status?, detail: String?, at time: Date,
                            lineage: String?, event: AuditEntry) async throws -> LastGood? {
        try await write(event) { db -> LastGood? in
            guard let apply = try Row.fetchOne(db, sql: "SELECT * FROM applies WHERE id = ?", arguments: [id]) else {
                throw LedgerError.notFound("apply '\(id)'")
            }
            let env: String = apply["env"], stack: String = apply["stack"], planID: String = apply["plan_id"]
            // Fencing: only the apply that still holds the lock may record its outcome.
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM locks WHERE apply_id = ?)", arguments: [id]) == true else {
                throw LeaseLost(applyID: id, env: env, stack: stack)
            }
            try db.execute(sql: "UPDATE applies SET outcome = ?, detail = ?, finished_at = ? WHERE id = ?",
                           arguments: [outcome.rawValue, detail, AuditChain.milliseconds(time), id])
            try db.execute(sql: "DELETE FROM locks WHERE apply_id = ?", arguments: [id])
            if let planStatus {
                try db.execute(sql: "UPDATE plans SET status = ? WHERE id = ?", arguments: [planStatus.rawValue, planID])
            }
            guard outcome == .success else { return nil }
            let releaseID = try String.fetchOne(db, sql: "SELECT release_id FROM plans WHERE id = ?", arguments: [planID]) ?? ""
            let sequence = (try Int.fetchOne(db, sql: "SELECT sequence FROM last_good WHERE env = ? AND stack = ?", arguments: [env, stack]) ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO last_good (env, stack, release_id, plan_id, apply_id, sequence, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(env, stack) DO UPDATE SET release_id = excluded.release_id, plan_id = excluded.plan_id,
                    apply_id = excluded.apply_id, sequence = excluded.sequence, applied_at = excluded.applied_at
                """, arguments: [env, stack, releaseID, planID, id, sequence, AuditChain.milliseconds(time)])
            if let lineage, !lineage.isEmpty {
                try db.execute(sql: "INSERT INTO lineages (env, stack, lineage, pinned_at) VALUES (?, ?, ?, ?) ON CONFLICT(env, stack) DO NOTHING",
                               arguments: [env, stack, lineage, AuditChain.milliseconds(time)])
            }
            return LastGood(env: env, stack: stack, releaseID: releaseID, planID: planID, applyID: id, sequence: sequence, appliedAt: time)
        }
    }

    public func applies(env: String?, stack: String?) async throws -> [ApplyRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM applies WHERE (?1 IS NULL OR env = ?1) AND (?2 IS NULL OR stack = ?2) ORDER BY started_at, rowid
                """, arguments: [env, stack]).map(Self.apply)
        }
    }

    public func latestApply(env: String, stack: String) async throws -> ApplyRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM applies WHERE env = ? AND stack = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
                             arguments: [env, stack]).map(Self.apply)
        }
    }

    public func latestPlan(env: String, stack: String, status: PlanRecord.Status) async throws -> PlanRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM plans WHERE env = ? AND stack = ? AND status = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
                             arguments: [env, stack, status.rawValue]).map(Self.plan)
        }
    }

    static func apply(_ row: Row) throws -> ApplyRecord {
        ApplyRecord(id: row["id"], planID: row["plan_id"], env: row["env"], stack: row["stack"], actor: row["actor"],
                    startedAt: AuditChain.date(milliseconds: row["started_at"]),
                    finishedAt: (row["finished_at"] as Int64?).map(AuditChain.date(milliseconds:)),
                    outcome: try Self.value(ApplyRecord.Outcome.self, row, table: "applies", id: row["id"], column: "outcome"), detail: row["detail"])
    }

    public func locks() async throws -> [LockRecord] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM locks ORDER BY env, stack").map(Self.lock) }
    }

    public func releaseLock(env: String, stack: String, event: AuditEntry) async throws -> LockRecord? {
        let now = effects.now()
        return try await write(event) { db -> LockRecord? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM locks WHERE env = ? AND stack = ?", arguments: [env, stack]) else { return nil }
            let lock = Self.lock(row)
            try db.execute(sql: "DELETE FROM locks WHERE env = ? AND stack = ?", arguments: [env, stack])
            try db.execute(sql: "UPDATE applies SET outcome = 'interrupted', finished_at = ?, detail = 'lock released by unlock' WHERE id = ? AND outcome = 'running'",
                           arguments: [AuditChain.milliseconds(now), lock.applyID])
            return lock
        }
    }

    static func lock(_ row: Row) -> LockRecord {
        LockRecord(env: row["env"], stack: row["stack"], applyID: row["apply_id"], holder: row["holder"], host: row["host"],
                   pid: row["pid"], acquiredAt: AuditChain.date(milliseconds: row["acquired_at"]),
                   expiresAt: AuditChain.date(milliseconds: row["expires_at"]), token: row["token"], runURL: row["run_url"])
    }

    public func renewLease(applyID: String, until: Date) async throws -> Bool {
        do {
            return try await pool.write { db in
                try db.execute(sql: "UPDATE locks SET expires_at = ? WHERE apply_id = ?", arguments: [AuditChain.milliseconds(until), applyID])
                return db.changesCount == 1
            }
        } catch {
            throw LedgerError.writeFailed("\(error)")
        }
    }

    public func expireLease(env: String, stack: String, at time: Date, event: AuditEntry) async throws -> LockRecord? {
        let now = effects.now()
        do {
            return try await pool.write { db -> LockRecord? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM locks WHERE env = ? AND stack = ? AND expires_at <= ?",
                                             arguments: [env, stack, AuditChain.milliseconds(time)]) else { return nil }
            let lock = Self.lock(row)
            try db.execute(sql: "DELETE FROM locks WHERE env = ? AND stack = ?", arguments: [env, stack])
            try db.execute(sql: "UPDATE applies SET outcome = 'interrupted', finished_at = ?, detail = ? WHERE id = ? AND outcome = 'running'",
                           arguments: [AuditChain.milliseconds(time),
                                       "its lease expired at \(Timestamp.text(lock.expiresAt)): the runner stopped renewing it (killed or cut off)", lock.applyID])
                try Self.append(event, in: db, at: now, ci: self.ci)
                return lock
            }
        } catch {
            throw LedgerError.writeFailed("\(error)")
        }
    }

    // MARK: - Last-good and lineage

    public func lastGood(env: String, stack: String) async throws -> LastGood? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM last_good WHERE env = ? AND stack = ?", arguments: [env, stack]).map { row in
                LastGood(env: row["env"], stack: row["stack"], releaseID: row["release_id"], planID: row["plan_id"], applyID: row["apply_id"],
                         sequence: row["sequence"], appliedAt: AuditChain.date(milliseconds: row["applied_at"]))
            }
        }
    }

    public func pinnedLineage(env: String, stack: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT lineage FROM lineages WHERE env = ? AND stack = ?", arguments: [env, stack])
        }
    }

    public func lineageOwners(_ lineage: String) async throws -> [(env: String, stack: String)] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT env, stack FROM lineages WHERE lineage = ? ORDER BY env, stack", arguments: [lineage])
                .map { (env: $0["env"] as String, stack: $0["stack"] as String) }
        }
    }

    // MARK: - Drift

    public func recordDrift(_ report: DriftReport, event: AuditEntry) async throws {
        try await write(event) { db in
            try db.execute(sql: """
                INSERT INTO drifts (id, env, stack, release_id, actor, detected_at, resources) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [report.id, report.env, report.stack, report.releaseID, report.actor,
                                 AuditChain.milliseconds(report.detectedAt), Self.json(report.resources)])
        }
    }

    public func drifts(env: String, stack: String) async throws -> [DriftReport] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM drifts WHERE env = ? AND stack = ? ORDER BY detected_at, rowid", arguments: [env, stack]).map { row in
                DriftReport(id: row["id"], env: row["env"], stack: row["stack"], releaseID: row["release_id"], actor: row["actor"],
                            detectedAt: AuditChain.date(milliseconds: row["detected_at"]),
                            resources: try Self.decoded([DriftedResource].self, row, table: "drifts", id: row["id"], column: "resources"))
            }
        }
    }

    public func recordDriftAcknowledgement(_ acknowledgement: DriftAcknowledgement, event: AuditEntry) async throws {
        try await write(event) { db in
            try db.execute(sql: """
                INSERT INTO drift_acknowledgements (id, drift_id, env, stack, principal, payload, signature, comment, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [acknowledgement.id, acknowledgement.driftID, acknowledgement.env, acknowledgement.stack, acknowledgement.principal,
                                 acknowledgement.payload, acknowledgement.signature, acknowledgement.comment,
                                 AuditChain.milliseconds(acknowledgement.createdAt)])
        }
    }

    public func driftAcknowledgements(env: String, stack: String) async throws -> [DriftAcknowledgement] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM drift_acknowledgements WHERE env = ? AND stack = ? ORDER BY created_at, rowid",
                             arguments: [env, stack]).map { row in
                DriftAcknowledgement(id: row["id"], driftID: row["drift_id"], env: row["env"], stack: row["stack"], principal: row["principal"],
                                     payload: row["payload"], signature: row["signature"], comment: row["comment"],
                                     createdAt: AuditChain.date(milliseconds: row["created_at"]))
            }
        }
    }

    // MARK: - Ephemeral environments

    public func saveEphemeral(_ record: EphemeralRecord, event: AuditEntry) async throws {
        try await write(event) { db in
            try db.execute(sql: """
                INSERT INTO ephemerals (name, like_env, release_id, status, actor, created_at, expires_at, detail, tests)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET like_env = excluded.like_env, release_id = excluded.release_id, status = excluded.status,
                    actor = excluded.actor, created_at = excluded.created_at, expires_at = excluded.expires_at, detail = excluded.detail,
                    tests = excluded.tests
                """, arguments: [record.name, record.like, record.releaseID, record.status.rawValue, record.actor,
                                 AuditChain.milliseconds(record.createdAt), AuditChain.milliseconds(record.expiresAt), record.detail,
                                 Self.json(record.tests)])
        }
    }

    public func ephemeral(name: String) async throws -> EphemeralRecord? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM ephemerals WHERE name = ?", arguments: [name]).map(Self.ephemeral) }
    }

    public func ephemerals() async throws -> [EphemeralRecord] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM ephemerals ORDER BY created_at, name").map(Self.ephemeral) }
    }

    static func ephemeral(_ row: Row) throws -> EphemeralRecord {
        EphemeralRecord(name: row["name"], like: row["like_env"], releaseID: row["release_id"],
                        status: try value(EphemeralRecord.Status.self, row, table: "ephemerals", id: row["name"], column: "status"), actor: row["actor"],
                        createdAt: AuditChain.date(milliseconds: row["created_at"]), expiresAt: AuditChain.date(milliseconds: row["expires_at"]),
                        detail: row["detail"],
                        tests: try decoded([EphemeralTestResult].self, row, table: "ephemerals", id: row["name"], column: "tests"))
    }

    // MARK: - Break-glass

    public func recordBreakGlass(_ record: BreakGlassRecord, event: AuditEntry) async throws {
        try await write(event) { db in
            try db.execute(sql: "INSERT INTO break_glass (id, release_id, env, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [record.id, record.releaseID, record.env, record.reason, record.actor, AuditChain.milliseconds(record.createdAt)])
        }
    }

    public func breakGlasses() async throws -> [BreakGlassRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM break_glass ORDER BY created_at, rowid").map { row in
                BreakGlassRecord(id: row["id"], releaseID: row["release_id"], env: row["env"], reason: row["reason"], actor: row["actor"],
                                 createdAt: AuditChain.date(milliseconds: row["created_at"]))
            }
        }
    }

    public func recordBreakGlassReview(_ review: BreakGlassReview, event: AuditEntry) async throws {
        try await write(event) { db in
            try db.execute(sql: """
                INSERT INTO break_glass_reviews (id, break_glass_id, principal, payload, signature, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [review.id, review.breakGlassID, review.principal, review.payload, review.signature, review.comment,
                                 AuditChain.milliseconds(review.createdAt)])
        }
    }

    public func breakGlassReviews(id: String) async throws -> [BreakGlassReview] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM break_glass_reviews WHERE break_glass_id = ? ORDER BY created_at, rowid", arguments: [id]).map { row in
                BreakGlassReview(id: row["id"], breakGlassID: row["break_glass_id"], principal: row["principal"], payload: row["payload"],
                                 signature: row["signature"], comment: row["comment"], createdAt: AuditChain.date(milliseconds: row["created_at"]))
            }
        }
    }

    /// A JSON column decoded into `type`; text that does not decode is an error naming the row, never a default.
    static func decoded<T: Decodable>(_ type: T.Type, _ row: Row, table: String, id: String, column: String) throws -> T {
        let text: String? = row[column]
        guard let text else { throw LedgerError.corrupt(table: table, id: id, column: column, reason: "it is NULL") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw LedgerError.corrupt(table: table, id: id, column: column, reason: "not a JSON \(T.self): \(error)")
        }
    }

    /// A string enum column; an unknown value is an error naming the row, never a default.
    static func value<E: RawRepresentable>(_ type: E.Type, _ row: Row, table: String, id: String, column: String) throws -> E where E.RawValue == String {
        let raw: String? = row[column]
        guard let raw, let value = E(rawValue: raw) else {
            throw LedgerError.corrupt(table: table, id: id, column: column, reason: "'\(raw ?? "NULL")' is not a known value")
        }
        return value
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }
}

public enum LedgerError: Error, CustomStringConvertible, Equatable {
    case unavailable(path: String, reason: String)
    case writeFailed(String)
    case readFailed(String)
    case notFound(String)
    /// A stored row that does not decode, named by table, row and column.
    case corrupt(table: String, id: String, column: String, reason: String)

    public var description: String {
        switch self {
        case .unavailable(let path, let reason):
            "cannot open the ledger at '\(path)': \(reason); check the path and permissions, or set TOLLGATE_DATABASE"
        case .writeFailed(let reason):
            "the ledger refused a write and nothing was recorded: \(reason); run 'tollgate audit verify' and retry"
        case .readFailed(let reason):
            "cannot read the ledger: \(reason); check that the file is a tollgate ledger"
        case .notFound(let what):
            "\(what) is not in the ledger"
        case .corrupt(let table, let id, let column, let reason):
            "the ledger's \(table) row '\(id)' has an unreadable '\(column)': \(reason); restore the row from a backup, it is never read as a default"
        }
    }
}
