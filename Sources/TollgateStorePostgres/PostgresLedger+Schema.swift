import Foundation
import PostgresNIO
import TollgateCore

/// The schema, as migrations registered in order: each runs in one transaction, is recorded in
/// `schema_migrations`, and is never edited after it lands (a change is a new migration).
extension PostgresLedger {
    struct Migration: Sendable {
        var version: Int
        var name: String
        var statements: [String]
    }

    /// The oldest server this schema runs on (`EXECUTE FUNCTION` triggers, `DROP DATABASE … WITH (FORCE)` in tests).
    static let minimumServerVersion = 130000

    static let migrations: [Migration] = [
        Migration(version: 1, name: "releases, plans, approvals, applies, locks, last-good, lineage, drift, ephemerals, break-glass, events", statements: [
            """
            CREATE TABLE releases (
                id TEXT PRIMARY KEY CHECK (id ~ '^sha256:[0-9a-f]{64}$'),
                commit_sha TEXT NOT NULL,
                branch TEXT,
                pr BIGINT,
                author TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                files TEXT NOT NULL CHECK (jsonb_typeof(files::jsonb) = 'array')
            )
            """,
            """
            CREATE TABLE break_glass (
                id TEXT PRIMARY KEY,
                ord BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                release_id TEXT NOT NULL REFERENCES releases(id),
                env TEXT NOT NULL,
                reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
                actor TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE break_glass_reviews (
                id TEXT PRIMARY KEY,
                ord BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                break_glass_id TEXT NOT NULL REFERENCES break_glass(id),
                principal TEXT NOT NULL,
                payload TEXT NOT NULL,
                signature TEXT NOT NULL,
                comment TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE plans (
                id TEXT PRIMARY KEY,
                ord BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                release_id TEXT NOT NULL REFERENCES releases(id),
                env TEXT NOT NULL,
                stack TEXT NOT NULL,
                digest TEXT NOT NULL UNIQUE CHECK (digest LIKE 'sha256:%'),
                summary TEXT NOT NULL CHECK (jsonb_typeof(summary::jsonb) = 'object'),
                has_changes BOOLEAN NOT NULL,
                prior_serial BIGINT NOT NULL,
                prior_lineage TEXT NOT NULL,
                planner TEXT NOT NULL,
                engine_kind TEXT NOT NULL,
                engine_version TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'failed', 'stale', 'superseded')),
                checks TEXT NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(checks::jsonb) = 'array'),
                break_glass TEXT REFERENCES break_glass(id)
            )
            """,
            "CREATE INDEX plans_by_target ON plans (env, stack, created_at, ord)",
            """
            CREATE TABLE approvals (
                id TEXT PRIMARY KEY,
                ord BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                plan_id TEXT NOT NULL REFERENCES plans(id),
                decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
                principal TEXT NOT NULL,
                payload TEXT NOT NULL,
                signature TEXT NOT NULL,
                comment TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX approvals_by_plan ON approvals (plan_id, created_at, ord)",
            """
            CREATE TABLE applies (
                id TEXT PRIMARY KEY,
                ord BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                plan_id TEXT NOT NULL REFERENCES plans(id),
                env TEXT NOT NULL,
                stack TEXT NOT NULL,
                actor TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                finished_at BIGINT,
                outcome TEXT NOT NULL CHECK (outcome IN ('running', 'success', 'failed', 'interrupted')),
                detail TEXT
            )
            """,
            "CREATE INDEX applies_by_target ON applies (env, stack, started_at, ord)",
            """
            CREATE TABLE locks (
                env TEXT NOT NULL,
                stack TEXT NOT NULL,
                apply_id TEXT NOT NULL UNIQUE REFERENCES applies(id),
                holder TEXT NOT NULL,
                host TEXT NOT NULL,
                pid BIGINT NOT NULL,
                acquired_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                token BIGINT NOT NULL CHECK (token > 0),
                run_url TEXT,
                PRIMARY KEY (env, stack)
            )
            """,
            """
            CREATE TABLE lock_tokens (
                env TEXT NOT NULL,
                stack TEXT NOT NULL,
                token BIGINT NOT NULL CHECK (token > 0),
                PRIMARY KEY (env, stack)
            )
            """,
            """
            CREATE TABLE last_good (
                env TEXT NOT NULL,
                stack TEXT NOT NULL,
                release_id TEXT NOT NULL REFERENCES releases(id),
                plan_id TEXT NOT NULL REFERENCES plans(id),
                apply_id TEXT NOT NULL REFERENCES applies(id),
                sequence BIGINT NOT NULL CHECK (sequence > 0),
                applied_at BIGINT NOT NULL,
                PRIMARY KEY (env, stack)
            )
            """,
            """
            CREATE TABLE lineages (
                env TEXT NOT NULL,
                stack TEXT NOT NULL,
                lineage TEXT NOT NULL CHECK (lineage <> ''),
                pinned_at BIGINT NOT NULL,
                PRIMARY KEY (env, stack)
            )
            """,
            "CREATE INDEX lineages_by_lineage ON lineages (lineage)",
            """
            CREATE TABLE drifts (
                id TEXT PRIMARY KEY,
                ord BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                env TEXT NOT NULL,
                stack TEXT NOT NULL,
                release_id TEXT NOT NULL REFERENCES releases(id),
                actor TEXT NOT NULL,
                detected_at BIGINT NOT NULL,
                resources TEXT NOT NULL CHECK (jsonb_typeof(resources::jsonb) = 'array')
            )
            """,
            "CREATE INDEX drifts_by_target ON drifts (env, stack, detected_at, ord)",
            """
            CREATE TABLE drift_acknowledgements (
                id TEXT PRIMARY KEY,
                ord BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                drift_id TEXT NOT NULL REFERENCES drifts(id),
                env TEXT NOT NULL,
                stack TEXT NOT NULL,
                principal TEXT NOT NULL,
                payload TEXT NOT NULL,
                signature TEXT NOT NULL,
                comment TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE ephemerals (
                name TEXT PRIMARY KEY,
                like_env TEXT NOT NULL,
                release_id TEXT NOT NULL REFERENCES releases(id),
                status TEXT NOT NULL CHECK (status IN ('creating', 'up', 'failed', 'destroying', 'down', 'destroy-failed')),
                actor TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                detail TEXT,
                tests TEXT NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tests::jsonb) = 'array')
            )
            """,
            // The audit log. Subjects and payload are kept as the canonical JSON text that was hashed
            // (TEXT, not JSONB, which would re-encode it), so `audit verify` hashes what is stored.
            """
            CREATE TABLE events (
                seq BIGINT PRIMARY KEY CHECK (seq > 0),
                time BIGINT NOT NULL,
                actor TEXT NOT NULL,
                kind TEXT NOT NULL,
                subjects TEXT NOT NULL,
                payload TEXT NOT NULL,
                prev_hash TEXT NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
                hash TEXT NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
            )
            """,
            // The chain's head, one row: every write transaction locks it first (SELECT … FOR UPDATE),
            // so appends from many processes take their seq and prev_hash from it one at a time and
            // the chain never forks. A row lock lasts for the transaction only, so it works behind
            // PgBouncer's transaction pooling, unlike a session advisory lock.
            """
            CREATE TABLE chain_head (
                one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
                seq BIGINT NOT NULL CHECK (seq >= 0),
                hash TEXT NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
            )
            """,
            "INSERT INTO chain_head (one, seq, hash) VALUES (TRUE, 0, repeat('0', 64))",
            """
            CREATE FUNCTION tollgate_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'integrity_constraint_violation';
            END
            $$
            """,
            """
            CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
                FOR EACH ROW EXECUTE FUNCTION tollgate_events_append_only()
            """,
            """
            CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
                FOR EACH STATEMENT EXECUTE FUNCTION tollgate_events_append_only()
            """,
        ]),
        Migration(version: 2, name: "artifacts by digest, in chunks", statements: [
            // key_id is left for a store that encrypts artifacts before they reach this one; this
            // store keeps whatever bytes it is given and never sets it.
            """
            CREATE TABLE artifacts (
                id TEXT PRIMARY KEY CHECK (id ~ '^sha256:[0-9a-f]{64}$'),
                size BIGINT NOT NULL CHECK (size >= 0),
                chunks INTEGER NOT NULL CHECK (chunks >= 0),
                key_id TEXT
            )
            """,
            """
            CREATE TABLE artifact_chunks (
                id TEXT NOT NULL REFERENCES artifacts(id),
                n INTEGER NOT NULL CHECK (n >= 0),
                bytes BYTEA NOT NULL,
                PRIMARY KEY (id, n)
            )
            """,
        ]),
        // When each artifact was last written or put again, by the server's clock: collection
        // (`tollgate ledger gc`) only takes artifacts older than its grace period, so a command that
        // wrote one and has not yet recorded what names it keeps it. Rows from before are 0: old.
        Migration(version: 3, name: "artifacts' stored time, for collection", statements: [
            "ALTER TABLE artifacts ADD COLUMN stored_at BIGINT NOT NULL DEFAULT 0",
        ]),
    ]

    /// Refuses a server older than the oldest this code supports.
    func checkServerVersion(_ tx: Transaction) async throws {
        let versionRows = try await tx.rows("SHOW server_version_num")
        guard let raw = try versionRows.first?[0].decode(String.self), let number = Int(raw) else {
            throw PostgresStoreError.unavailable(server: server, reason: "the server did not report its version")
        }
        guard number >= Self.minimumServerVersion else {
            throw PostgresStoreError.unsupportedServer(version: "\(number / 10000).\(number % 10000)", minimum: "13")
        }
    }

    /// Checks the server's version and that the schema is exactly the one this code knows, reading
    /// only: what a read-only role (GRANT SELECT) can do before a preview.
    func checkSchema(on connection: PostgresConnection) async throws {
        let tx = Transaction(connection: connection, logger: logger)
        try await checkServerVersion(tx)
        let latest = Self.migrations.last?.version ?? 0
        let exists = try await tx.rows("SELECT to_regclass('schema_migrations') IS NOT NULL").first?[0].decode(Bool.self) ?? false
        let found = exists ? try await tx.rows("SELECT coalesce(max(version), 0)::bigint FROM schema_migrations").first?[0].decode(Int64.self) ?? 0 : 0
        if found > latest { throw PostgresStoreError.schemaTooNew(found: Int(found), supported: latest) }
        if found < latest { throw PostgresStoreError.schemaBehind(found: Int(found), known: latest) }
    }

    /// Checks the server's version and brings the schema up to date, one migration per transaction.
    ///
    /// Many runners may start at once: the `schema_migrations` table is locked for the length of
    /// each migration's transaction (never a session lock), and a migration another runner applied
    /// meanwhile is skipped.
    func migrate(on connection: PostgresConnection) async throws {
        let tx = Transaction(connection: connection, logger: logger)
        try await checkServerVersion(tx)
        try await createMigrationsTable(tx)
        let latest = Self.migrations.last?.version ?? 0
        for migration in Self.migrations {
            try await tx.execute("BEGIN")
            do {
                try await tx.execute("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE")
                let found = try await tx.rows("SELECT coalesce(max(version), 0)::bigint FROM schema_migrations").first?[0].decode(Int64.self) ?? 0
                if found > latest { throw PostgresStoreError.schemaTooNew(found: Int(found), supported: latest) }
                if found < migration.version {
                    for statement in migration.statements { try await tx.execute(.sql(statement)) }
                    try await tx.execute(.sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                                              .int(migration.version), .text(migration.name), .time(effects.now())))
                }
                try await tx.execute("COMMIT")
            } catch {
                await tx.rollback(after: error)
                throw error
            }
        }
    }

    /// `CREATE TABLE IF NOT EXISTS` can still collide when two sessions run it at once: the loser retries once.
    func createMigrationsTable(_ tx: Transaction) async throws {
        let create: PostgresQuery = """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY CHECK (version > 0),
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )
            """
        do {
            try await tx.execute(create)
        } catch where ["23505", "42P07"].contains(PostgresStoreError.sqlState(error) ?? "") {
            try await tx.execute(create)
        }
    }
}
