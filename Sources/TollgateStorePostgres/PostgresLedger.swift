import Foundation
import PostgresNIO
import TollgateCore

/// The team ledger: the same `Ledger` port as `SQLiteLedger`, on PostgreSQL, for many CI runners at once.
///
/// Every write is one transaction that first locks the audit chain's head row, does its work,
/// appends its event and commits, so the record and the chain never disagree and concurrent
/// appends never fork the chain; a serialization failure or deadlock retries the whole
/// transaction. Only transaction-scoped locks are taken (row locks, `LOCK TABLE`), never session
/// advisory locks, so it works behind PgBouncer's transaction pooling. Times are whole
/// milliseconds (BIGINT), as in SQLite, so the two stores round-trip the same values.
///
/// The connection pool (`PostgresClient`) needs a task running it for the ledger's lifetime. Either
/// scope it with ``withLedger(url:effects:_:)``, or ``connect(url:effects:)`` and ``close()``.
public final class PostgresLedger: Ledger {
    let client: PostgresClient
    /// The client with a deadline on getting a connection: every statement goes through it.
    let pool: Pool
    let effects: Effects
    /// The CI run written into every event's payload, when there is one.
    let ci: CIContext?
    let logger: Logger
    let url: PostgresURL
    /// The URL without its password, for messages.
    var server: String { url.redacted }
    /// The task running the client, when ``connect(url:effects:)`` started one.
    let runner: Task<Void, Never>?

    /// How many times a transaction is tried when the server reports a serialization failure or a deadlock.
    static let attempts = 8

    /// A ledger on `url` whose client is not running yet: run ``run()`` in a task, then ``prepare()``.
    ///
    /// Prefer ``withLedger(url:effects:_:)`` or ``connect(url:effects:)``, which do both.
    public convenience init(url: String, effects: Effects, ci: CIContext? = nil) throws {
        let parsed = try PostgresURL(url)
        self.init(client: PostgresClient(configuration: parsed.configuration), url: parsed, effects: effects, runner: nil, ci: ci)
    }

    init(client: PostgresClient, url: PostgresURL, effects: Effects, runner: Task<Void, Never>?, ci: CIContext? = nil) {
        self.ci = ci
        self.client = client
        self.url = url
        self.effects = effects
        self.runner = runner
        var logger = Logger(label: "tollgate.postgres")
        logger.logLevel = .critical
        self.logger = logger
        pool = Pool(client: client, server: url.redacted, patience: .seconds(url.connectTimeout), logger: logger)
    }

    /// Runs the connection pool until the calling task is cancelled; no query runs without it.
    public func run() async {
        await client.run()
    }

    /// Checks the server's version and applies pending migrations.
    ///
    /// It uses one connection of its own rather than the pool, so an unreachable server or a
    /// refused password fails at once with the server's reason (the pool would keep retrying).
    ///
    /// With `readOnly` (a preview, whose role may hold SELECT only) nothing is created or migrated:
    /// the schema must already be at the version this code knows.
    public func prepare(readOnly: Bool = false) async throws {
        do {
            let connection = try await PostgresConnection.connect(configuration: url.connectionConfiguration(), id: 0, logger: logger)
            do {
                if readOnly { try await checkSchema(on: connection) } else { try await migrate(on: connection) }
            } catch {
                try? await connection.close()
                throw error
            }
            try? await connection.close()
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.unavailable(server: server, reason: PostgresStoreError.describe(error))
        }
    }

    /// Opens the ledger at `url`, runs its client in a child task for as long as `body` runs, and
    /// closes it when `body` returns or throws. The structured way, and what the CLI should use.
    /// With `readOnly`, the schema is checked, never migrated (see ``prepare(readOnly:)``).
    public static func withLedger<T>(url: String, effects: Effects, ci: CIContext? = nil, readOnly: Bool = false,
                                     _ body: (PostgresLedger) async throws -> T) async throws -> T {
        let ledger = try PostgresLedger(url: url, effects: effects, ci: ci)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await ledger.run() }
            defer { group.cancelAll() }
            try await ledger.prepare(readOnly: readOnly)
            return try await body(ledger)
        }
    }

    /// Opens the ledger at `url` with its client running in a background task, and migrates it.
    /// Call ``close()`` when done.
    public static func connect(url: String, effects: Effects) async throws -> PostgresLedger {
        let parsed = try PostgresURL(url)
        let client = PostgresClient(configuration: parsed.configuration)
        let runner = Task { await client.run() }
        let ledger = PostgresLedger(client: client, url: parsed, effects: effects, runner: runner)
        do {
            try await ledger.prepare()
        } catch {
            await ledger.close()
            throw error
        }
        return ledger
    }

    /// Stops the background client ``connect(url:effects:)`` started and waits for it to end.
    public func close() async {
        runner?.cancel()
        await runner?.value
    }

    /// Copies another ledger's tables in, as they are stored (events and their hashes byte for
    /// byte), in one transaction; refuses a database that already holds any record.
    public func importTables(_ tables: [LedgerTable]) async throws {
        try await transaction { tx, _ in
            for table in ["releases", "events"] {
                let count = try await tx.rows(.sql("SELECT count(*)::bigint AS n FROM \(table)")).first.map { try StoredRow(table, $0, id: "n").int64("n") } ?? 0
                if count > 0 {
                    throw PostgresStoreError.writeFailed("the team database \(self.server) already holds \(count) \(table); migrate only into an empty database, so no record is mixed with another ledger's")
                }
            }
            var types: [String: String] = [:]
            for row in try await tx.rows(.sql("""
                SELECT table_name || '.' || column_name AS name, data_type FROM information_schema.columns WHERE table_schema = current_schema()
                """)) {
                let column = StoredRow("information_schema.columns", row, id: "name")
                types[try column.text("name")] = try column.text("data_type")
            }
            for table in tables {
                let placeholders = table.columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
                let statement = "INSERT INTO \(table.name) (\(table.columns.joined(separator: ", "))) VALUES (\(placeholders))"
                for row in table.rows {
                    let binds: [Bind] = zip(table.columns, row).map { column, value in
                        let type = types["\(table.name).\(column)"] ?? "text"
                        switch value {
                        case .null: return type == "text" ? .text(nil) : .integer(nil)
                        case .text(let text): return .text(text)
                        case .integer(let number): return type == "boolean" ? .bool(number != 0) : .int(number)
                        }
                    }
                    try await tx.execute(.sql(statement, binds))
                }
            }
            if let last = tables.first(where: { $0.name == "events" })?.rows.last, case .integer(let seq) = last[0], case .text(let hash) = last[7] {
                try await tx.execute(.sql("UPDATE chain_head SET seq = $1, hash = $2", .int(seq), .text(hash)))
            }
        }
    }

    /// The server and database without the password, for messages and `tollgate doctor`.
    public var serverDescription: String { server }

    /// The schema version the database is at, and the newest this code knows.
    public func schemaVersion() async throws -> (current: Int, known: Int) {
        let rows = try await read("SELECT coalesce(max(version), 0)::bigint AS version FROM schema_migrations") { cells in
            try StoredRow("schema_migrations", cells, id: "version").int("version")
        }
        return (rows.first ?? 0, Self.migrations.last?.version ?? 0)
    }

    /// The rights tollgate's commands need, by table: every table is read and appended to; events
    /// only that (its rows are never changed); the rest are also updated, and locks and artifacts deleted.
    static func requiredRights() -> [(table: String, right: String)] {
        let tables = migrations.flatMap(\.statements).compactMap { statement -> String? in
            guard let range = statement.range(of: "CREATE TABLE ") else { return nil }
            return statement[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "\n" }).first.map(String.init)
        }
        return tables.flatMap { table -> [(table: String, right: String)] in
            var rights = ["SELECT", "INSERT"]
            if table != "events" { rights.append("UPDATE") }
            if ["locks", "artifacts", "artifact_chunks"].contains(table) { rights.append("DELETE") }
            return rights.map { (table, $0) }
        }
    }

    /// The rights from ``requiredRights()`` the connected role lacks, as `RIGHT on TABLE`.
    public func missingRights() async throws -> [String] {
        // The names are this file's own constants, never input.
        let checks = Self.requiredRights().map { "('\($0.table)', '\($0.right)')" }.joined(separator: ", ")
        return try await read(PostgresQuery(unsafeSQL: """
            SELECT t || '.' || r AS missing FROM (VALUES \(checks)) AS needed(t, r) WHERE NOT has_table_privilege(current_user, t, r) ORDER BY t, r
            """)) { cells in
            let text = try StoredRow("privileges", cells, id: "missing").text("missing")
            let parts = text.split(separator: ".", maxSplits: 1)
            return "\(parts.last ?? "") on \(parts.first ?? "")"
        }
    }

    /// Whether this connection to the server is encrypted, and with which TLS version.
    public func connectionSecurity() async throws -> (encrypted: Bool, version: String?) {
        let rows = try await read("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()") { cells in
            let row = StoredRow("pg_stat_ssl", cells, id: "ssl")
            return (try row.bool("ssl"), try row.optionalText("version"))
        }
        return rows.first ?? (false, nil)
    }

    /// Whether the role can change or delete audit events (it should not: see docs/operations.md).
    public func canRewriteEvents() async throws -> Bool {
        let rows = try await read("""
            SELECT (has_table_privilege(current_user, 'events', 'UPDATE') OR has_table_privilege(current_user, 'events', 'DELETE')) AS rewrite
            """) { cells in try StoredRow("privileges", cells, id: "rewrite").decode(Bool.self, "rewrite") }
        return rows.first ?? true
    }

    /// Artifacts no record names: written by a command that stopped before recording what names them.
    public struct Collection: Sendable, Equatable {
        /// The ids removed (or, in a dry run, that would be), sorted.
        public var ids: [String]
        /// Their stored size in bytes.
        public var bytes: Int64
        /// Artifacts left in the store.
        public var kept: Int

        public init(ids: [String], bytes: Int64, kept: Int) {
            self.ids = ids
            self.bytes = bytes
            self.kept = kept
        }
    }

    /// Removes the artifacts that no release, plan or plan event names and that were stored (or put
    /// again) more than `grace` ago by the server's clock, with their chunks, in one transaction that
    /// records `event` with what it removed. The grace period covers a command between storing an
    /// artifact and recording the plan or release that names it; an artifact put again meanwhile
    /// has a fresh stored time (and a put that finds it collected writes it anew).
    public func collectArtifacts(grace: Duration, dryRun: Bool, event: @escaping @Sendable (Collection) -> AuditEntry) async throws -> Collection {
        let cutoff = "\(PostgresArtifactStore.serverMilliseconds) - \(grace.components.seconds * 1000)"
        let doomed = """
            SELECT a.id, a.size FROM artifacts a
            WHERE a.stored_at < \(cutoff)
              AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.id = a.id)
              AND NOT EXISTS (SELECT 1 FROM plans p WHERE p.digest = a.id)
              AND NOT EXISTS (SELECT 1 FROM events e WHERE e.kind = 'plan.created' AND e.payload::jsonb ->> 'json' = a.id)
            ORDER BY a.id
            """
        @Sendable func found(_ rows: [PostgresRandomAccessRow]) throws -> [(id: String, size: Int64)] {
            try rows.map { cells in
                let row = StoredRow("artifacts", cells, id: "id")
                return (try row.text("id"), try row.int64("size"))
            }
        }
        @Sendable func count(_ tx: Transaction) async throws -> Int {
            try await tx.rows("SELECT count(*)::bigint AS n FROM artifacts").first.map { try StoredRow("artifacts", $0, id: "n").int("n") } ?? 0
        }
        do {
            return try await transaction { tx, head in
                // FOR UPDATE: a put that touches one of these waits, then finds it gone and writes it anew.
                let victims = try found(try await tx.rows(.sql(doomed + (dryRun ? "" : " FOR UPDATE OF a"))))
                let total = try await count(tx)
                var result = Collection(ids: victims.map(\.id), bytes: victims.reduce(0) { $0 + $1.size }, kept: total)
                guard !dryRun else {
                    result.kept = total - victims.count
                    return result
                }
                for victim in victims {
                    try await tx.execute(.sql("DELETE FROM artifact_chunks WHERE id = $1", .text(victim.id)))
                    try await tx.execute(.sql("DELETE FROM artifacts WHERE id = $1", .text(victim.id)))
                }
                result.kept = try await count(tx)
                if !victims.isEmpty { try await head.append(event(result), in: tx, at: effects.now()) }
                return result
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.writeFailed("cannot collect artifacts: \(PostgresStoreError.describe(error))")
        }
    }

    /// The artifact store in the same database, on this ledger's connection pool.
    public var artifacts: PostgresArtifactStore { PostgresArtifactStore(pool: pool) }

    // MARK: - Transactions

    /// Runs `body` in one transaction that holds the chain head's row lock, committing when it
    /// returns and rolling back when it throws; retried whole on a serialization failure or deadlock.
    func transaction<T: Sendable>(_ body: @Sendable (Transaction, ChainHead) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await pool.withConnection { connection in
                    let tx = Transaction(connection: connection, logger: logger)
                    try await tx.execute("BEGIN")
                    do {
                        let head = try await ChainHead.lock(in: tx)
                        let result = try await body(tx, head)
                        try await tx.execute("COMMIT")
                        return result
                    } catch {
                        await tx.rollback(after: error)
                        throw error
                    }
                }
            } catch where attempt < Self.attempts && ["40001", "40P01"].contains(PostgresStoreError.sqlState(error) ?? "") {
                attempt += 1
            }
        }
    }

    /// One write and its audit event in one transaction.
    func write<T: Sendable>(_ entry: AuditEntry?, _ body: @escaping @Sendable (Transaction) async throws -> T) async throws -> T {
        let now = effects.now()
        do {
            return try await transaction { tx, head in
                let result = try await body(tx)
                if let entry { try await head.append(entry.stamped(self.ci), in: tx, at: now) }
                return result
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch let error as LeaseLost {
            throw error
        } catch {
            throw PostgresStoreError.writeFailed(PostgresStoreError.describe(error))
        }
    }

    /// One read statement; rows are decoded by `map`, whose errors name the row.
    func read<T>(_ query: PostgresQuery, _ map: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        let rows: [PostgresRow]
        do {
            rows = try await pool.query(query)
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.readFailed(PostgresStoreError.describe(error))
        }
        return try rows.map { try map($0.makeRandomAccess()) }
    }

    // MARK: - Events

    /// The chain's head as locked by the current transaction.
    struct ChainHead: Sendable {
        var seq: Int
        var hash: String

        static func lock(in tx: Transaction) async throws -> ChainHead {
            guard let cells = try await tx.rows("SELECT seq, hash FROM chain_head WHERE one FOR UPDATE").first else {
                throw PostgresStoreError.corrupt(table: "chain_head", id: "head", column: "seq", reason: "the row is missing")
            }
            let row = StoredRow("chain_head", cells, id: "seq")
            return ChainHead(seq: try row.int("seq"), hash: try row.text("hash"))
        }

        /// Appends the next event after this head and moves the head on, inside the same transaction.
        func append(_ entry: AuditEntry, in tx: Transaction, at time: Date) async throws {
            let event = AuditChain.append(entry, after: seq == 0 ? nil : (seq: seq, hash: hash), at: time)
            // The stored text is exactly what was hashed, the same as SQLiteLedger stores it.
            try await tx.execute(.sql("""
                INSERT INTO events (seq, time, actor, kind, subjects, payload, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, .int(event.seq), .int(AuditChain.milliseconds(event.time)), .text(event.actor), .text(event.kind),
                .text(CanonicalJSON.encode(.object(event.subjects.mapValues(JSONValue.string)))),
                .text(CanonicalJSON.encode(event.payload)), .text(event.prevHash), .text(event.hash)))
            try await tx.execute(.sql("UPDATE chain_head SET seq = $1, hash = $2 WHERE one", .int(event.seq), .text(event.hash)))
        }
    }

    public func appendEvent(_ event: AuditEntry) async throws {
        try await write(event) { _ in }
    }

    public func events() async throws -> [AuditEvent] {
        try await read("SELECT seq, time, actor, kind, subjects, payload, prev_hash, hash FROM events ORDER BY seq") { cells in
            let row = StoredRow("events", cells, id: "seq")
            return AuditEvent(seq: try row.int("seq"), time: try row.time("time"), actor: try row.text("actor"), kind: try row.text("kind"),
                              subjects: try row.json([String: String].self, "subjects"), payload: try row.json(JSONValue.self, "payload"),
                              prevHash: try row.text("prev_hash"), hash: try row.text("hash"))
        }
    }

    /// Every event in seq order, streamed and decoded by position: `audit verify` reads the whole log.
    public func storedEvents() async throws -> [StoredAuditEvent] {
        var events: [StoredAuditEvent] = []
        do {
            events = try await pool.withConnection { [logger] connection in
                var events: [StoredAuditEvent] = []
                let rows = try await connection.query("SELECT seq, time, actor, kind, subjects, payload, prev_hash, hash FROM events ORDER BY seq", logger: logger)
                do {
                    for try await (seq, time, actor, kind, subjects, payload, prevHash, hash) in rows.decode((Int64, Int64, String, String, String, String, String, String).self) {
                        events.append(StoredAuditEvent(seq: Int(seq), time: time, actor: actor, kind: kind, subjects: subjects, payload: payload,
                                                       prevHash: prevHash, hash: hash))
                    }
                } catch let error as PostgresDecodingError {
                    throw PostgresStoreError.corrupt(table: "events", id: "after seq \(events.last?.seq ?? 0)", column: "\(error.columnName)",
                                                     reason: "it does not decode as \(error.targetType)")
                }
                return events
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.readFailed(PostgresStoreError.describe(error))
        }
        return events
    }

    public func auditHead() async throws -> AuditHead? {
        try await read("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1") { cells in
            let row = StoredRow("events", cells, id: "seq")
            return AuditHead(seq: try row.int("seq"), hash: try row.text("hash"))
        }.first
    }

    public func auditHash(seq: Int) async throws -> String? {
        try await read(.sql("SELECT seq, hash FROM events WHERE seq = $1", .int(seq))) { cells in
            try StoredRow("events", cells, id: "seq").text("hash")
        }.first
    }

    // MARK: - Releases

    public func recordRelease(_ release: Release, event: AuditEntry) async throws {
        let files = try storedJSON(release.files)
        try await write(event) { tx in
            // The same content cut again (a docs-only commit) is the same release: keep the first record.
            try await tx.execute(.sql("""
                INSERT INTO releases (id, commit_sha, branch, pr, author, created_at, files) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (id) DO NOTHING
                """, .text(release.id), .text(release.commit), .text(release.branch), .int(release.pr), .text(release.author),
                .time(release.createdAt), .text(files)))
        }
    }

    public func release(id: String) async throws -> Release? {
        try await read(.sql("SELECT * FROM releases WHERE id = $1", .text(id)), Self.release).first
    }

    public func releases() async throws -> [Release] {
        try await read("SELECT * FROM releases ORDER BY created_at, id", Self.release)
    }

    static func release(_ cells: PostgresRandomAccessRow) throws -> Release {
        let row = StoredRow("releases", cells, id: "id")
        return Release(id: try row.text("id"), commit: try row.text("commit_sha"), branch: try row.optionalText("branch"), pr: try row.optionalInt("pr"),
                       author: try row.text("author"), createdAt: try row.time("created_at"), files: try row.json([String].self, "files"))
    }

    // MARK: - Plans

    public func recordPlan(_ plan: PlanRecord, event: AuditEntry) async throws {
        let summary = try storedJSON(plan.summary), checks = try storedJSON(plan.checks)
        try await write(event) { tx in
            try await tx.execute(.sql("UPDATE plans SET status = 'superseded' WHERE env = $1 AND stack = $2 AND status = 'pending'",
                                      .text(plan.env), .text(plan.stack)))
            try await tx.execute(.sql("""
                INSERT INTO plans (id, release_id, env, stack, digest, summary, has_changes, prior_serial, prior_lineage, planner,
                                   engine_kind, engine_version, created_at, status, checks, break_glass)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                """, .text(plan.id), .text(plan.releaseID), .text(plan.env), .text(plan.stack), .text(plan.digest), .text(summary),
                .bool(plan.hasChanges), .int(plan.priorSerial), .text(plan.priorLineage), .text(plan.planner), .text(plan.engineKind),
                .text(plan.engineVersion), .time(plan.createdAt), .text(plan.status.rawValue), .text(checks), .text(plan.breakGlass)))
        }
    }

    public func plan(id: String) async throws -> PlanRecord? {
        try await read(.sql("SELECT * FROM plans WHERE id = $1", .text(id)), Self.plan).first
    }

    public func plans(env: String?, stack: String?) async throws -> [PlanRecord] {
        try await read(.sql("""
            SELECT * FROM plans WHERE ($1::text IS NULL OR env = $1) AND ($2::text IS NULL OR stack = $2) ORDER BY created_at, ord
            """, .text(env), .text(stack)), Self.plan)
    }

    public func setPlanStatus(_ id: String, _ status: PlanRecord.Status, event: AuditEntry) async throws {
        try await write(event) { tx in
            try await tx.execute(.sql("UPDATE plans SET status = $1 WHERE id = $2", .text(status.rawValue), .text(id)))
        }
    }

    static func plan(_ cells: PostgresRandomAccessRow) throws -> PlanRecord {
        let row = StoredRow("plans", cells, id: "id")
        return PlanRecord(id: try row.text("id"), releaseID: try row.text("release_id"), env: try row.text("env"), stack: try row.text("stack"),
                          digest: try row.text("digest"), summary: try row.json(PlanSummary.self, "summary"), hasChanges: try row.bool("has_changes"),
                          priorSerial: try row.int("prior_serial"), priorLineage: try row.text("prior_lineage"), planner: try row.text("planner"),
                          engineKind: try row.text("engine_kind"), engineVersion: try row.text("engine_version"),
                          createdAt: try row.time("created_at"), status: try row.value(PlanRecord.Status.self, "status"),
                          checks: try row.json([CheckResult].self, "checks"), breakGlass: try row.optionalText("break_glass"))
    }

    // MARK: - Approvals

    public func recordApproval(_ approval: ApprovalRecord, event: AuditEntry) async throws {
        try await write(event) { tx in
            try await tx.execute(.sql("""
                INSERT INTO approvals (id, plan_id, decision, principal, payload, signature, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, .text(approval.id), .text(approval.planID), .text(approval.decision.rawValue), .text(approval.principal),
                .text(approval.payload), .text(approval.signature), .text(approval.comment), .time(approval.createdAt)))
        }
    }

    public func approvals(planID: String) async throws -> [ApprovalRecord] {
        try await read(.sql("SELECT * FROM approvals WHERE plan_id = $1 ORDER BY created_at, ord", .text(planID))) { cells in
            let row = StoredRow("approvals", cells, id: "id")
            return ApprovalRecord(id: try row.text("id"), planID: try row.text("plan_id"), decision: try row.value(ApprovalRecord.Decision.self, "decision"),
                                  principal: try row.text("principal"), payload: try row.text("payload"), signature: try row.text("signature"),
                                  comment: try row.optionalText("comment"), createdAt: try row.time("created_at"))
        }
    }

    // MARK: - Applies and locks

    /// The lock was taken by another transaction between the check and the insert: roll back, report the holder.
    struct LockHeld: Error {
        var holder: LockRecord
    }

    public func beginApply(_ apply: ApplyRecord, lock: LockRecord, event: AuditEntry) async throws -> LockRecord? {
        let now = effects.now()
        do {
            return try await transaction { tx, head -> LockRecord? in
                let query = PostgresQuery.sql("SELECT * FROM locks WHERE env = $1 AND stack = $2", .text(lock.env), .text(lock.stack))
                if let held = try await tx.rows(query).first { return try Self.lock(held) }
                try await tx.execute(.sql("""
                    INSERT INTO applies (id, plan_id, env, stack, actor, started_at, outcome) VALUES ($1, $2, $3, $4, $5, $6, 'running')
                    """, .text(apply.id), .text(apply.planID), .text(apply.env), .text(apply.stack), .text(apply.actor), .time(apply.startedAt)))
                let token = try await tx.rows(.sql("""
                    INSERT INTO lock_tokens (env, stack, token) VALUES ($1, $2, 1)
                    ON CONFLICT (env, stack) DO UPDATE SET token = lock_tokens.token + 1 RETURNING env, stack, token
                    """, .text(lock.env), .text(lock.stack))).first.map { try StoredRow("lock_tokens", $0, id: "env", "stack").int64("token") } ?? 1
                let taken = try await tx.rows(.sql("""
                    INSERT INTO locks (env, stack, apply_id, holder, host, pid, acquired_at, expires_at, token, run_url)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    ON CONFLICT (env, stack) DO NOTHING RETURNING env
                    """, .text(lock.env), .text(lock.stack), .text(lock.applyID), .text(lock.holder), .text(lock.host), .int(lock.pid),
                    .time(lock.acquiredAt), .time(lock.expiresAt), .int(token), .text(lock.runURL)))
                if taken.isEmpty, let held = try await tx.rows(query).first { throw LockHeld(holder: try Self.lock(held)) }
                try await head.append(event.stamped(self.ci), in: tx, at: now)
                return nil
            }
        } catch let held as LockHeld {
            return held.holder
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.writeFailed(PostgresStoreError.describe(error))
        }
    }

    public func finishApply(id: String, outcome: ApplyRecord.Outcome, planStatus: PlanRecord.Status?, detail: String?, at time: Date,
                            lineage: String?, event: AuditEntry) async throws -> LastGood? {
        try await write(event) { tx -> LastGood? in
            guard let cells = try await tx.rows(.sql("SELECT * FROM applies WHERE id = $1 FOR UPDATE", .text(id))).first else {
                throw PostgresStoreError.notFound("apply '\(id)'")
            }
            let apply = StoredRow("applies", cells, id: "id")
            let env = try apply.text("env"), stack = try apply.text("stack"), planID = try apply.text("plan_id")
            // Fencing: only the apply that still holds the lock may record its outcome.
            guard try await !tx.rows(.sql("SELECT apply_id FROM locks WHERE apply_id = $1 FOR UPDATE", .text(id))).isEmpty else {
                throw LeaseLost(applyID: id, env: env, stack: stack)
            }
            try await tx.execute(.sql("UPDATE applies SET outcome = $1, detail = $2, finished_at = $3 WHERE id = $4",
                                      .text(outcome.rawValue), .text(detail), .time(time), .text(id)))
            try await tx.execute(.sql("DELETE FROM locks WHERE apply_id = $1", .text(id)))
            if let planStatus {
                try await tx.execute(.sql("UPDATE plans SET status = $1 WHERE id = $2", .text(planStatus.rawValue), .text(planID)))
            }
            guard outcome == .success else { return nil }
            guard let plan = try await tx.rows(.sql("SELECT id, release_id FROM plans WHERE id = $1", .text(planID))).first else {
                throw PostgresStoreError.notFound("plan '\(planID)' of apply '\(id)'")
            }
            let releaseID = try StoredRow("plans", plan, id: "id").text("release_id")
            let previous = try await tx.rows(.sql("SELECT env, stack, sequence FROM last_good WHERE env = $1 AND stack = $2 FOR UPDATE",
                                                  .text(env), .text(stack))).first
            let sequence = (try previous.map { try StoredRow("last_good", $0, id: "env", "stack").int("sequence") } ?? 0) + 1
            try await tx.execute(.sql("""
                INSERT INTO last_good (env, stack, release_id, plan_id, apply_id, sequence, applied_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (env, stack) DO UPDATE SET release_id = excluded.release_id, plan_id = excluded.plan_id,
                    apply_id = excluded.apply_id, sequence = excluded.sequence, applied_at = excluded.applied_at
                """, .text(env), .text(stack), .text(releaseID), .text(planID), .text(id), .int(sequence), .time(time)))
            if let lineage, !lineage.isEmpty {
                try await tx.execute(.sql("""
                    INSERT INTO lineages (env, stack, lineage, pinned_at) VALUES ($1, $2, $3, $4) ON CONFLICT (env, stack) DO NOTHING
                    """, .text(env), .text(stack), .text(lineage), .time(time)))
            }
            return LastGood(env: env, stack: stack, releaseID: releaseID, planID: planID, applyID: id, sequence: sequence, appliedAt: time)
        }
    }

    public func latestApply(env: String, stack: String) async throws -> ApplyRecord? {
        try await read(.sql("SELECT * FROM applies WHERE env = $1 AND stack = $2 ORDER BY started_at DESC, ord DESC LIMIT 1",
                            .text(env), .text(stack)), Self.apply).first
    }

    public func latestPlan(env: String, stack: String, status: PlanRecord.Status) async throws -> PlanRecord? {
        try await read(.sql("SELECT * FROM plans WHERE env = $1 AND stack = $2 AND status = $3 ORDER BY created_at DESC, ord DESC LIMIT 1",
                            .text(env), .text(stack), .text(status.rawValue)), Self.plan).first
    }

    public func applies(env: String?, stack: String?) async throws -> [ApplyRecord] {
        try await read(.sql("""
            SELECT * FROM applies WHERE ($1::text IS NULL OR env = $1) AND ($2::text IS NULL OR stack = $2) ORDER BY started_at, ord
            """, .text(env), .text(stack)), Self.apply)
    }

    static func apply(_ cells: PostgresRandomAccessRow) throws -> ApplyRecord {
        let row = StoredRow("applies", cells, id: "id")
        return ApplyRecord(id: try row.text("id"), planID: try row.text("plan_id"), env: try row.text("env"), stack: try row.text("stack"),
                           actor: try row.text("actor"), startedAt: try row.time("started_at"),
                           finishedAt: try row.decode(Int64?.self, "finished_at").map(AuditChain.date(milliseconds:)),
                           outcome: try row.value(ApplyRecord.Outcome.self, "outcome"), detail: try row.optionalText("detail"))
    }

    public func locks() async throws -> [LockRecord] {
        try await read("SELECT * FROM locks ORDER BY env, stack", Self.lock)
    }

    public func releaseLock(env: String, stack: String, event: AuditEntry) async throws -> LockRecord? {
        let now = effects.now()
        return try await write(event) { tx -> LockRecord? in
            let query = PostgresQuery.sql("SELECT * FROM locks WHERE env = $1 AND stack = $2 FOR UPDATE", .text(env), .text(stack))
            guard let row = try await tx.rows(query).first else { return nil }
            let lock = try Self.lock(row)
            try await tx.execute(.sql("DELETE FROM locks WHERE env = $1 AND stack = $2", .text(env), .text(stack)))
            try await tx.execute(.sql("""
                UPDATE applies SET outcome = 'interrupted', finished_at = $1, detail = 'lock released by unlock' WHERE id = $2 AND outcome = 'running'
                """, .time(now), .text(lock.applyID)))
            return lock
        }
    }

    static func lock(_ cells: PostgresRandomAccessRow) throws -> LockRecord {
        let row = StoredRow("locks", cells, id: "env", "stack")
        return LockRecord(env: try row.text("env"), stack: try row.text("stack"), applyID: try row.text("apply_id"), holder: try row.text("holder"),
                          host: try row.text("host"), pid: try row.int32("pid"), acquiredAt: try row.time("acquired_at"),
                          expiresAt: try row.time("expires_at"), token: try row.int64("token"), runURL: try row.optionalText("run_url"))
    }

    public func renewLease(applyID: String, until: Date) async throws -> Bool {
        do {
            // A single-row update: no chain lock, so renewals never wait on other writers' events.
            let rows = try await pool.query(.sql("UPDATE locks SET expires_at = $1 WHERE apply_id = $2 RETURNING apply_id",
                                                 .time(until), .text(applyID)))
            return rows.count == 1
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.writeFailed(PostgresStoreError.describe(error))
        }
    }

    public func expireLease(env: String, stack: String, at time: Date, event: AuditEntry) async throws -> LockRecord? {
        let now = effects.now()
        do {
            return try await transaction { tx, head -> LockRecord? in
                let query = PostgresQuery.sql("SELECT * FROM locks WHERE env = $1 AND stack = $2 AND expires_at <= $3 FOR UPDATE",
                                              .text(env), .text(stack), .time(time))
                guard let row = try await tx.rows(query).first else { return nil }
                let lock = try Self.lock(row)
                try await tx.execute(.sql("DELETE FROM locks WHERE env = $1 AND stack = $2", .text(env), .text(stack)))
                try await tx.execute(.sql("""
                    UPDATE applies SET outcome = 'interrupted', finished_at = $1, detail = $2 WHERE id = $3 AND outcome = 'running'
                    """, .time(time), .text("its lease expired at \(Timestamp.text(lock.expiresAt)): the runner stopped renewing it (killed or cut off)"),
                    .text(lock.applyID)))
                try await head.append(event.stamped(self.ci), in: tx, at: now)
                return lock
            }
        } catch let error as PostgresStoreError {
            throw error
        } catch {
            throw PostgresStoreError.writeFailed(PostgresStoreError.describe(error))
        }
    }

    // MARK: - Last-good and lineage

    public func lastGood(env: String, stack: String) async throws -> LastGood? {
        try await read(.sql("SELECT * FROM last_good WHERE env = $1 AND stack = $2", .text(env), .text(stack))) { cells in
            let row = StoredRow("last_good", cells, id: "env", "stack")
            return LastGood(env: try row.text("env"), stack: try row.text("stack"), releaseID: try row.text("release_id"), planID: try row.text("plan_id"),
                            applyID: try row.text("apply_id"), sequence: try row.int("sequence"), appliedAt: try row.time("applied_at"))
        }.first
    }

    public func pinnedLineage(env: String, stack: String) async throws -> String? {
        try await read(.sql("SELECT env, stack, lineage FROM lineages WHERE env = $1 AND stack = $2", .text(env), .text(stack))) { cells in
            try StoredRow("lineages", cells, id: "env", "stack").text("lineage")
        }.first
    }

    public func lineageOwners(_ lineage: String) async throws -> [(env: String, stack: String)] {
        try await read(.sql("SELECT env, stack FROM lineages WHERE lineage = $1 ORDER BY env, stack", .text(lineage))) { cells in
            let row = StoredRow("lineages", cells, id: "env", "stack")
            return (env: try row.text("env"), stack: try row.text("stack"))
        }
    }

    // MARK: - Drift

    public func recordDrift(_ report: DriftReport, event: AuditEntry) async throws {
        let resources = try storedJSON(report.resources)
        try await write(event) { tx in
            try await tx.execute(.sql("""
                INSERT INTO drifts (id, env, stack, release_id, actor, detected_at, resources) VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, .text(report.id), .text(report.env), .text(report.stack), .text(report.releaseID), .text(report.actor),
                .time(report.detectedAt), .text(resources)))
        }
    }

    public func drifts(env: String, stack: String) async throws -> [DriftReport] {
        try await read(.sql("SELECT * FROM drifts WHERE env = $1 AND stack = $2 ORDER BY detected_at, ord", .text(env), .text(stack))) { cells in
            let row = StoredRow("drifts", cells, id: "id")
            return DriftReport(id: try row.text("id"), env: try row.text("env"), stack: try row.text("stack"), releaseID: try row.text("release_id"),
                               actor: try row.text("actor"), detectedAt: try row.time("detected_at"),
                               resources: try row.json([DriftedResource].self, "resources"))
        }
    }

    public func recordDriftAcknowledgement(_ acknowledgement: DriftAcknowledgement, event: AuditEntry) async throws {
        try await write(event) { tx in
            try await tx.execute(.sql("""
                INSERT INTO drift_acknowledgements (id, drift_id, env, stack, principal, payload, signature, comment, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, .text(acknowledgement.id), .text(acknowledgement.driftID), .text(acknowledgement.env), .text(acknowledgement.stack),
                .text(acknowledgement.principal), .text(acknowledgement.payload), .text(acknowledgement.signature), .text(acknowledgement.comment),
                .time(acknowledgement.createdAt)))
        }
    }

    public func driftAcknowledgements(env: String, stack: String) async throws -> [DriftAcknowledgement] {
        try await read(.sql("SELECT * FROM drift_acknowledgements WHERE env = $1 AND stack = $2 ORDER BY created_at, ord",
                            .text(env), .text(stack))) { cells in
            let row = StoredRow("drift_acknowledgements", cells, id: "id")
            return DriftAcknowledgement(id: try row.text("id"), driftID: try row.text("drift_id"), env: try row.text("env"), stack: try row.text("stack"),
                                        principal: try row.text("principal"), payload: try row.text("payload"), signature: try row.text("signature"),
                                        comment: try row.text("comment"), createdAt: try row.time("created_at"))
        }
    }

    // MARK: - Ephemeral environments

    public func saveEphemeral(_ record: EphemeralRecord, event: AuditEntry) async throws {
        let tests = try storedJSON(record.tests)
        try await write(event) { tx in
            try await tx.execute(.sql("""
                INSERT INTO ephemerals (name, like_env, release_id, status, actor, created_at, expires_at, detail, tests)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (name) DO UPDATE SET like_env = excluded.like_env, release_id = excluded.release_id, status = excluded.status,
                    actor = excluded.actor, created_at = excluded.created_at, expires_at = excluded.expires_at, detail = excluded.detail,
                    tests = excluded.tests
                """, .text(record.name), .text(record.like), .text(record.releaseID), .text(record.status.rawValue), .text(record.actor),
                .time(record.createdAt), .time(record.expiresAt), .text(record.detail), .text(tests)))
        }
    }

    public func ephemeral(name: String) async throws -> EphemeralRecord? {
        try await read(.sql("SELECT * FROM ephemerals WHERE name = $1", .text(name)), Self.ephemeral).first
    }

    public func ephemerals() async throws -> [EphemeralRecord] {
        try await read("SELECT * FROM ephemerals ORDER BY created_at, name", Self.ephemeral)
    }

    static func ephemeral(_ cells: PostgresRandomAccessRow) throws -> EphemeralRecord {
        let row = StoredRow("ephemerals", cells, id: "name")
        return EphemeralRecord(name: try row.text("name"), like: try row.text("like_env"), releaseID: try row.text("release_id"),
                               status: try row.value(EphemeralRecord.Status.self, "status"), actor: try row.text("actor"),
                               createdAt: try row.time("created_at"), expiresAt: try row.time("expires_at"), detail: try row.optionalText("detail"),
                               tests: try row.json([EphemeralTestResult].self, "tests"))
    }

    // MARK: - Break-glass

    public func recordBreakGlass(_ record: BreakGlassRecord, event: AuditEntry) async throws {
        try await write(event) { tx in
            try await tx.execute(.sql("INSERT INTO break_glass (id, release_id, env, reason, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                                      .text(record.id), .text(record.releaseID), .text(record.env), .text(record.reason), .text(record.actor),
                                      .time(record.createdAt)))
        }
    }

    public func breakGlasses() async throws -> [BreakGlassRecord] {
        try await read("SELECT * FROM break_glass ORDER BY created_at, ord") { cells in
            let row = StoredRow("break_glass", cells, id: "id")
            return BreakGlassRecord(id: try row.text("id"), releaseID: try row.text("release_id"), env: try row.text("env"), reason: try row.text("reason"),
                                    actor: try row.text("actor"), createdAt: try row.time("created_at"))
        }
    }

    public func recordBreakGlassReview(_ review: BreakGlassReview, event: AuditEntry) async throws {
        try await write(event) { tx in
            try await tx.execute(.sql("""
                INSERT INTO break_glass_reviews (id, break_glass_id, principal, payload, signature, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, .text(review.id), .text(review.breakGlassID), .text(review.principal), .text(review.payload), .text(review.signature),
                .text(review.comment), .time(review.createdAt)))
        }
    }

    public func breakGlassReviews(id: String) async throws -> [BreakGlassReview] {
        try await read(.sql("SELECT * FROM break_glass_reviews WHERE break_glass_id = $1 ORDER BY created_at, ord", .text(id))) { cells in
            let row = StoredRow("break_glass_reviews", cells, id: "id")
            return BreakGlassReview(id: try row.text("id"), breakGlassID: try row.text("break_glass_id"), principal: try row.text("principal"),
                                    payload: try row.text("payload"), signature: try row.text("signature"), comment: try row.optionalText("comment"),
                                    createdAt: try row.time("created_at"))
        }
    }
}
