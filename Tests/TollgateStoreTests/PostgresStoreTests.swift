import Foundation
import PostgresNIO
import TestSupport
import Testing
import TollgateCore
import TollgateStorePostgres

/// PostgreSQL specifics: migrations, the append-only guard against TRUNCATE, tampering found by
/// `audit verify`, and artifacts in chunks, against a real server (`TOLLGATE_TEST_DATABASE_URL`).
@Suite(.enabled(if: PostgresTestServer.shouldRun, "TOLLGATE_TEST_DATABASE_URL is not set and CI is not set"))
struct PostgresStoreTests {
    /// Runs `body` with a migrated ledger in a fresh database, and that database's URL.
    func withLedger(_ body: (PostgresLedger, String) async throws -> Void) async throws {
        try await PostgresTestServer.withDatabase { url in
            try await PostgresLedger.withLedger(url: url, effects: fixedEffects()) { ledger in try await body(ledger, url) }
        }
    }

    func scalar(_ sql: String, url: String) async throws -> Int64 {
        try await PostgresTestServer.withClient(url) { client in
            let rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "tollgate.tests")).collect()
            return try rows[0].makeRandomAccess()[0].decode(Int64.self)
        }
    }

    @Test func migrationsAreRecordedOnceAndReopeningChangesNothing() async throws {
        try await withLedger { ledger, url in
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "note"))
            #expect(try await scalar("SELECT count(*) FROM schema_migrations", url: url) == 3)
            #expect(try await scalar("SELECT max(version) FROM schema_migrations", url: url) == 3)
            // A second process opening the same ledger applies nothing and sees the same record.
            let second = try await PostgresLedger.connect(url: url, effects: fixedEffects())
            #expect(try await second.events().map(\.kind) == ["note"])
            await second.close()
            #expect(try await scalar("SELECT count(*) FROM schema_migrations", url: url) == 3)
        }
    }

    @Test func aSchemaNewerThanTheCodeIsRefused() async throws {
        try await withLedger { _, url in
            try await PostgresTestServer.execute(["INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)"], url: url)
            await #expect(throws: PostgresStoreError.schemaTooNew(found: 99, supported: 3)) {
                try await PostgresLedger.withLedger(url: url, effects: fixedEffects()) { _ in }
            }
        }
    }

    @Test func anUnreachableServerIsAClearError() async throws {
        // Port 1 on loopback: nothing listens there.
        await #expect {
            try await PostgresLedger.withLedger(url: "postgres://tollgate:secret@127.0.0.1:1/tollgate?sslmode=disable&connect_timeout=2",
                                                effects: fixedEffects()) { _ in }
        } throws: { error in
            guard case PostgresStoreError.unavailable(let server, _) = error else { return false }
            return server == "postgres://tollgate:***@127.0.0.1:1/tollgate?sslmode=disable&connect_timeout=2"
        }
    }

    @Test func aRefusedPasswordIsNamedAtOnce() async throws {
        var components = URLComponents(string: try PostgresTestServer.serverURL())!
        components.password = "wrong"
        await #expect {
            try await PostgresLedger.withLedger(url: components.string!, effects: fixedEffects()) { _ in }
        } throws: { error in
            guard case PostgresStoreError.unavailable(_, let reason) = error else { return false }
            return reason.hasPrefix("SQLSTATE 28P01: password authentication failed for user")
        }
    }

    @Test func badURLsAreRefusedBeforeConnecting() throws {
        #expect(throws: PostgresStoreError.badURL("mysql://x@h/db", reason: "it must start with postgres:// or postgresql://")) {
            try PostgresURL("mysql://x@h/db")
        }
        #expect(throws: PostgresStoreError.badURL("postgres://u:***@h/db?sslmode=maybe",
                                                  reason: "sslmode 'maybe' is not one of disable, allow, prefer, require, verify-ca, verify-full")) {
            try PostgresURL("postgres://u:pw@h/db?sslmode=maybe")
        }
        let parsed = try PostgresURL("postgresql://ci%40corp:p%2Fw@db.example:6432/tollgate?sslmode=require")
        #expect(parsed.configuration.host == "db.example")
        #expect(parsed.configuration.port == 6432)
        #expect(parsed.configuration.username == "ci@corp")
        #expect(parsed.configuration.password == "p/w")
        #expect(parsed.configuration.database == "tollgate")
    }

    @Test func truncateIsRefusedEvenForTheOwner() async throws {
        try await withLedger { ledger, url in
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "note"))
            await #expect { try await PostgresTestServer.execute(["TRUNCATE events"], url: url) } throws: { error in
                (error as? PSQLError)?.serverInfo?[.message] == "audit events are append-only"
            }
            #expect(try await ledger.auditHead()?.seq == 1)
        }
    }

    @Test func editsPastTheTriggerAreFoundByVerify() async throws {
        try await withLedger { ledger, url in
            for index in 1...5 { try await ledger.appendEvent(AuditEntry(actor: "t", kind: "k\(index)", subjects: ["n": "\(index)"])) }
            try await PostgresTestServer.execute([
                "ALTER TABLE events DISABLE TRIGGER events_append_only",
                "UPDATE events SET payload = ' ' || payload WHERE seq = 2",
                "UPDATE events SET actor = 'mallory' WHERE seq = 4",
                "ALTER TABLE events ENABLE TRIGGER events_append_only",
            ], url: url)
            let stored = try await ledger.storedEvents()
            #expect(stored[1].payload == " {}")
            #expect(AuditChain.verify(stored: stored) == AuditChain.Break(seq: 2, reason: "its content does not match its hash; the row was edited"))
        }
    }

    @Test func aCutTailLeavesAGapTheNextAppendCannotHide() async throws {
        try await withLedger { ledger, url in
            for index in 1...4 { try await ledger.appendEvent(AuditEntry(actor: "t", kind: "k\(index)")) }
            try await PostgresTestServer.execute([
                "ALTER TABLE events DISABLE TRIGGER events_append_only",
                "DELETE FROM events WHERE seq >= 3",
                "ALTER TABLE events ENABLE TRIGGER events_append_only",
            ], url: url)
            // The head row still names event 4, so the chain goes on from there and the gap shows.
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "k5"))
            let stored = try await ledger.storedEvents()
            #expect(stored.map(\.seq) == [1, 2, 5])
            #expect(AuditChain.verify(stored: stored) == AuditChain.Break(seq: 5, reason: "expected event 3 here; events 3…4 are missing"))
        }
    }

    /// Bytes that are not all alike, so a misplaced chunk changes the hash.
    static func blob(_ count: Int) -> Data {
        var state: UInt32 = 2_463_534_242
        return Data((0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        })
    }

    /// The server named in an unavailable or lost-connection error, nil for any other error.
    static func serverOfLostConnection(_ error: any Error) -> String? {
        switch error as? PostgresStoreError {
        case .unavailable(let server, _), .lost(let server, _): server
        default: nil
        }
    }

    @Test func aServerThatGoesAwayMidCommandIsAClearErrorAndTheLedgerStaysWhole() async throws {
        let server = try PrivatePostgres()
        defer { server.remove() }
        let url = server.url + "&connect_timeout=2"
        let redacted = url.replacingOccurrences(of: ":tollgate@", with: ":***@")
        try await PostgresLedger.withLedger(url: url, effects: fixedEffects()) { ledger in
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "note", subjects: ["n": "1"]))
            try server.halt()
            // While it is away, a write and a read each end in an error naming the server (never the
            // password), within the URL's connect_timeout, rather than waiting on the pool forever.
            await #expect { try await ledger.appendEvent(AuditEntry(actor: "t", kind: "note", subjects: ["n": "2"])) } throws: {
                Self.serverOfLostConnection($0) == redacted && !"\($0)".contains(":tollgate@")
            }
            await #expect { try await ledger.storedEvents() } throws: { Self.serverOfLostConnection($0) == redacted }
            await #expect { try await ledger.artifacts.put(Data("plan".utf8)) } throws: { Self.serverOfLostConnection($0) == redacted }
            try server.resume()
            // Back: the pool connects again (after its own back-off, which can outlast one
            // connect_timeout on a busy machine), and the ledger holds exactly what was committed before.
            var stored: [StoredAuditEvent] = []
            for attempt in 1...30 {
                do {
                    stored = try await ledger.storedEvents()
                    break
                } catch where attempt < 30 && Self.serverOfLostConnection(error) != nil {
                    try await Task.sleep(for: .seconds(1))
                }
            }
            #expect(stored.map(\.subjects) == [#"{"n":"1"}"#])
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "note", subjects: ["n": "3"]))
            stored = try await ledger.storedEvents()
            #expect(stored.map(\.subjects) == [#"{"n":"1"}"#, #"{"n":"3"}"#])
            #expect(AuditChain.verify(stored: stored) == nil)
        }
    }

    /// How `body` ended within `limit`: "ok", "lost" (a lost connection), another error's text, or
    /// "still running" (it is then cancelled), so a test records a hang as a failure instead of hanging.
    static func within(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> String {
        await withTaskGroup(of: String.self) { group in
            group.addTask {
                do {
                    try await body()
                    return "ok"
                } catch PostgresStoreError.lost {
                    return "lost"
                } catch {
                    return "\(error)"
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return "still running"
            }
            let first = await group.next() ?? "none"
            group.cancelAll()
            return first
        }
    }

    static let cutRelease = "sha256:" + String(repeating: "c", count: 64)

    @Test func aConnectionCutInsideAWriteRollsItBack() async throws {
        try await withLedger { ledger, url in
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "note"))
            // Another session holds the chain head, so the ledger's write waits inside its
            // transaction; then its connection is cut from the server side.
            try await PostgresTestServer.withClient(url) { client in
                try await client.withConnection { holder in
                    let logger = Logger(label: "tollgate.tests")
                    _ = try await holder.query("BEGIN", logger: logger).collect()
                    _ = try await holder.query("SELECT seq FROM chain_head FOR UPDATE", logger: logger).collect()
                    let write = Task { try await ledger.recordRelease(
                        Release(id: Self.cutRelease, commit: String(repeating: "a", count: 40), branch: "main", pr: nil, author: "a@example.com",
                                createdAt: Date(timeIntervalSince1970: 1_790_000_000), files: ["stacks/app/main.tf"]),
                        event: AuditEntry(actor: "t", kind: "release")) }
                    var waiting = 0
                    for _ in 0..<600 where waiting == 0 {
                        try await Task.sleep(for: .milliseconds(50))
                        let rows = try await holder.query("SELECT count(*)::bigint FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tollgate' AND wait_event_type = 'Lock'", logger: logger).collect()
                        waiting = Int(try rows[0].makeRandomAccess()[0].decode(Int64.self))
                    }
                    #expect(waiting == 1)
                    if waiting == 1 {
                        _ = try await holder.query("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tollgate' AND wait_event_type = 'Lock'", logger: logger).collect()
                    }
                    // The holder lets go either way, so a write that was never cut cannot wait on it forever.
                    _ = try await holder.query("ROLLBACK", logger: logger).collect()
                    let outcome = await Self.within(.seconds(60)) { try await write.value }
                    write.cancel()
                    #expect(outcome == "lost", "the cut write ended as: \(outcome)")
                }
            }
            // Nothing of the cut write is there, and the chain goes on from where it was.
            #expect(try await ledger.release(id: Self.cutRelease) == nil)
            #expect(try await scalar("SELECT count(*) FROM events", url: url) == 1)
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "note"))
            #expect(AuditChain.verify(stored: try await ledger.storedEvents()) == nil)
        }
    }

    @Test func collectionRemovesOnlyOldArtifactsThatNoRecordNames() async throws {
        try await withLedger { ledger, url in
            let store = ledger.artifacts
            let bundle = try await store.put(Data("release bundle".utf8))
            let planFile = try await store.put(Data("plan file".utf8))
            let planJSON = try await store.put(Data("plan json".utf8))
            let orphan = try await store.put(Self.blob(2 * PostgresArtifactStore.chunkSize + 1))
            let fresh = try await store.put(Data("stored a moment ago".utf8))
            let release = Release(id: bundle, commit: String(repeating: "b", count: 40), branch: "main", pr: nil, author: "a@example.com",
                                  createdAt: Date(timeIntervalSince1970: 1_790_000_000), files: ["tollgate.yaml"])
            try await ledger.recordRelease(release, event: AuditEntry(actor: "t", kind: "release"))
            try await ledger.recordPlan(PlanRecord(id: "p-1", releaseID: bundle, env: "dev", stack: "app", digest: planFile, summary: PlanSummary(),
                                                   hasChanges: true, priorSerial: 0, priorLineage: "", planner: "t", engineKind: "terraform",
                                                   engineVersion: "1.11.4", createdAt: Date(timeIntervalSince1970: 1_790_000_000)),
                                        event: AuditEntry(actor: "t", kind: "plan.created", subjects: ["plan": "p-1"], payload: ["json": .string(planJSON)]))
            // Everything but `fresh` was stored long ago.
            try await PostgresTestServer.execute(["UPDATE artifacts SET stored_at = 0 WHERE id <> '\(fresh)'"], url: url)
            let event = { @Sendable (collection: PostgresLedger.Collection) in
                AuditEntry(actor: "t", kind: "artifacts.collected", payload: ["ids": .array(collection.ids.map(JSONValue.string))])
            }
            let preview = try await ledger.collectArtifacts(grace: .seconds(3600), dryRun: true, event: event)
            #expect(preview == PostgresLedger.Collection(ids: [orphan], bytes: Int64(2 * PostgresArtifactStore.chunkSize + 1), kept: 4))
            #expect(try await scalar("SELECT count(*) FROM artifacts", url: url) == 5)
            let collected = try await ledger.collectArtifacts(grace: .seconds(3600), dryRun: false, event: event)
            #expect(collected == PostgresLedger.Collection(ids: [orphan], bytes: Int64(2 * PostgresArtifactStore.chunkSize + 1), kept: 4))
            #expect(try await scalar("SELECT count(*) FROM artifact_chunks WHERE id = '\(orphan)'", url: url) == 0)
            #expect(try await store.read(id: orphan) == nil)
            for kept in [bundle, planFile, planJSON, fresh] { #expect(try await store.read(id: kept) != nil) }
            // The removal is on the record, and a second run finds nothing.
            let stored = try await ledger.storedEvents()
            #expect(stored.last?.kind == "artifacts.collected" && stored.last?.payload == #"{"ids":["\#(orphan)"]}"#)
            #expect(AuditChain.verify(stored: stored) == nil)
            #expect(try await ledger.collectArtifacts(grace: .seconds(3600), dryRun: false, event: event).ids.isEmpty)
            #expect(try await ledger.storedEvents().count == stored.count)
            // Putting an old unreferenced artifact again makes it fresh, so a command that is about
            // to record it keeps it; and one that was collected is written anew.
            let again = try await store.put(Data("put again".utf8))
            try await PostgresTestServer.execute(["UPDATE artifacts SET stored_at = 0 WHERE id = '\(again)'"], url: url)
            #expect(try await store.put(Data("put again".utf8)) == again)
            #expect(try await ledger.collectArtifacts(grace: .seconds(3600), dryRun: false, event: event).ids.isEmpty)
            #expect(try await store.put(Self.blob(2 * PostgresArtifactStore.chunkSize + 1)) == orphan)
            #expect(try await store.get(orphan) == Self.blob(2 * PostgresArtifactStore.chunkSize + 1))
        }
    }

    @Test func largeArtifactsAreChunkedAndRehashedOnRead() async throws {
        try await withLedger { ledger, url in
            let store = ledger.artifacts
            let data = Self.blob(3 * PostgresArtifactStore.chunkSize + 12_345)
            let id = try await store.put(data)
            #expect(id == Digest.id(data))
            #expect(try await store.get(id) == data)
            #expect(try await store.put(data) == id)
            #expect(try await scalar("SELECT count(*) FROM artifact_chunks", url: url) == 4)
            #expect(try await scalar("SELECT size FROM artifacts", url: url) == Int64(data.count))

            let empty = try await store.put(Data())
            #expect(try await store.get(empty) == Data())

            // One byte changed inside the third chunk: refused on read.
            try await PostgresTestServer.execute([#"UPDATE artifact_chunks SET bytes = overlay(bytes placing '\xff'::bytea from 100) WHERE n = 2"#], url: url)
            await #expect { try await store.get(id) } throws: { error in
                guard case PostgresStoreError.tamperedArtifact(let tampered, let actual) = error else { return false }
                return tampered == id && actual != id
            }
            // A lost chunk is named.
            try await PostgresTestServer.execute(["DELETE FROM artifact_chunks WHERE n = 1"], url: url)
            await #expect { try await store.get(id) } throws: { corruptRow($0) == "artifact_chunks/\(id)/1/n" }
            // Putting the bytes again repairs the stored copy.
            #expect(try await store.put(data) == id)
            #expect(try await store.get(id) == data)

            await #expect(throws: PostgresStoreError.missingArtifact("sha256:" + String(repeating: "0", count: 64))) {
                try await store.get("sha256:" + String(repeating: "0", count: 64))
            }
            await #expect(throws: PostgresStoreError.badArtifactID("../etc/passwd")) { try await store.get("../etc/passwd") }
        }
    }
}
