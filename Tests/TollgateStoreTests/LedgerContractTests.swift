import Foundation
import GRDB
import TestSupport
import Testing
import TollgateCore
import TollgateStore

/// The contract every `Ledger` implementation must pass, run against SQLite and PostgreSQL.
///
/// Each test gets a store of its own: a temporary SQLite file, or a fresh PostgreSQL database.
@Suite struct LedgerContractTests {
    static let names = StoreUnderTest.kinds

    /// Runs `body` with a fresh ledger of kind `name`.
    func withLedger(_ name: String, _ body: (any Ledger) async throws -> Void) async throws {
        try await StoreUnderTest.with(name) { store in try await body(store.ledger) }
    }

    static let time = Date(timeIntervalSince1970: 1_790_000_000)
    let release = Release(id: "sha256:" + String(repeating: "a", count: 64), commit: "c0ffee", branch: "main", pr: 7,
                          author: "author@example.com", createdAt: time, files: ["tollgate.yaml"])

    func plan(_ id: String, digest: Character, env: String = "prod", stack: String = "app") -> PlanRecord {
        PlanRecord(id: id, releaseID: release.id, env: env, stack: stack, digest: "sha256:" + String(repeating: digest, count: 64),
                   summary: PlanSummary(), hasChanges: true, priorSerial: 3, priorLineage: "lin-1", planner: "planner@example.com",
                   engineKind: "terraform", engineVersion: "1.11.4", createdAt: Self.time)
    }

    func entry(_ kind: String) -> AuditEntry { AuditEntry(actor: "tester", kind: kind, subjects: ["k": kind]) }

    /// The statements that drop a store's append-only guards on events, as an attacker with write access would.
    static func dropEventGuards(_ name: String) -> [String] {
        name == "sqlite" ? ["DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete"] : ["DROP TRIGGER events_append_only ON events"]
    }

    @Test(arguments: names) func everyEventCarriesTheCIContextTheLedgerWasOpenedWith(name: String) async throws {
        let ci = CIContext(provider: .github, repository: "acme/infra", runURL: "https://github.com/acme/infra/actions/runs/1", actor: "octocat")
        try await StoreUnderTest.with(name, ci: ci) { store in
            // Written before CI: an event without the context, by a ledger opened without one.
            try await store.withSecondLedger { plain in try await plain.appendEvent(entry("before")) }
            try await store.ledger.recordRelease(release, event: entry("release"))
            try await store.ledger.appendEvent(AuditEntry(actor: "tester", kind: "note", payload: .null))
            let events = try await store.ledger.events()
            #expect(events.map(\.kind) == ["before", "release", "note"])
            #expect(events.map { CIContext(json: $0.payload[CIContext.payloadKey]) } == [nil, ci, nil])
            #expect(events[2].payload == .null)
            #expect(AuditChain.verify(stored: try await store.ledger.storedEvents()) == nil)
            // The context is hashed with the event: rewriting it breaks the chain there.
            try await store.execute(Self.dropEventGuards(name) + ["UPDATE events SET payload = replace(payload, 'octocat', 'mallory') WHERE seq = 2"])
            #expect(AuditChain.verify(stored: try await store.ledger.storedEvents())?.seq == 2)
        }
    }

    @Test(arguments: names) func releasesAreRecordedOnce(name: String) async throws {
        try await withLedger(name) { ledger in
            try await ledger.recordRelease(release, event: entry("release"))
            var again = release
            again.commit = "d0cs0nly"
            try await ledger.recordRelease(again, event: entry("release"))
            #expect(try await ledger.releases() == [release])
            #expect(try await ledger.release(id: release.id)?.pr == 7)
            #expect(try await ledger.release(id: "sha256:none") == nil)
        }
    }

    @Test(arguments: names) func newerPlansSupersedePendingOnesAndDigestsAreUnique(name: String) async throws {
        try await withLedger(name) { ledger in
            try await ledger.recordRelease(release, event: entry("release"))
            try await ledger.recordPlan(plan("p-1", digest: "1"), event: entry("plan"))
            try await ledger.recordPlan(plan("p-2", digest: "2"), event: entry("plan"))
            try await ledger.recordPlan(plan("p-3", digest: "3", env: "dev"), event: entry("plan"))
            #expect(try await ledger.plan(id: "p-1")?.status == .superseded)
            #expect(try await ledger.plan(id: "p-2")?.status == .pending)
            #expect(try await ledger.plan(id: "p-3")?.status == .pending)
            #expect(try await ledger.plans(env: "prod", stack: nil).map(\.id) == ["p-1", "p-2"])
            #expect(try await ledger.latestPlan(env: "prod", stack: "app", status: .pending)?.id == "p-2")
            #expect(try await ledger.latestPlan(env: "prod", stack: "app", status: .superseded)?.id == "p-1")
            #expect(try await ledger.latestPlan(env: "prod", stack: "app", status: .applied) == nil)
            await #expect(throws: (any Error).self) { try await ledger.recordPlan(plan("p-4", digest: "2"), event: entry("plan")) }
            // The failed write left nothing behind, not even its event.
            #expect(try await ledger.plan(id: "p-4") == nil)
            #expect(try await ledger.events().count == 4)
        }
    }

    @Test(arguments: names) func applyLockLastGoodAndLineage(name: String) async throws {
        try await withLedger(name) { ledger in
            try await ledger.recordRelease(release, event: entry("release"))
            try await ledger.recordPlan(plan("p-1", digest: "1"), event: entry("plan"))
            let apply = ApplyRecord(id: "a-1", planID: "p-1", env: "prod", stack: "app", actor: "ci", startedAt: Self.time)
            let lock = LockRecord(env: "prod", stack: "app", applyID: "a-1", holder: "ci", host: "h", pid: 42, acquiredAt: Self.time)
            #expect(try await ledger.beginApply(apply, lock: lock, event: entry("apply.start")) == nil)
            // A second apply of the same (env, stack) sees the holder.
            let second = ApplyRecord(id: "a-2", planID: "p-1", env: "prod", stack: "app", actor: "other", startedAt: Self.time)
            let held = try await ledger.beginApply(second, lock: LockRecord(env: "prod", stack: "app", applyID: "a-2", holder: "other", host: "h", pid: 43, acquiredAt: Self.time), event: entry("apply.start"))
            #expect(held?.holder == "ci")
            #expect(held?.pid == 42)
            #expect(try await ledger.applies(env: "prod", stack: "app").map(\.id) == ["a-1"])
            #expect(try await ledger.latestApply(env: "prod", stack: "app")?.id == "a-1")
            #expect(try await ledger.latestApply(env: "dev", stack: "app") == nil)

            let good = try await ledger.finishApply(id: "a-1", outcome: .success, planStatus: .applied, detail: nil, at: Self.time, lineage: "lin-1", event: entry("apply.finish"))
            #expect(good?.sequence == 1)
            #expect(try await ledger.locks().isEmpty)
            #expect(try await ledger.plan(id: "p-1")?.status == .applied)
            #expect(try await ledger.lastGood(env: "prod", stack: "app")?.releaseID == release.id)
            #expect(try await ledger.pinnedLineage(env: "prod", stack: "app") == "lin-1")

            try await ledger.recordPlan(plan("p-2", digest: "2"), event: entry("plan"))
            let apply2 = ApplyRecord(id: "a-3", planID: "p-2", env: "prod", stack: "app", actor: "ci", startedAt: Self.time)
            _ = try await ledger.beginApply(apply2, lock: LockRecord(env: "prod", stack: "app", applyID: "a-3", holder: "ci", host: "h", pid: 44, acquiredAt: Self.time), event: entry("apply.start"))
            let good2 = try await ledger.finishApply(id: "a-3", outcome: .success, planStatus: .applied, detail: nil, at: Self.time, lineage: "lin-other", event: entry("apply.finish"))
            #expect(good2?.sequence == 2)
            // The lineage stays pinned to the first apply's.
            #expect(try await ledger.pinnedLineage(env: "prod", stack: "app") == "lin-1")
            #expect(try await ledger.lineageOwners("lin-1").map { "\($0.env)/\($0.stack)" } == ["prod/app"])
            #expect(try await ledger.lineageOwners("lin-other").isEmpty)
        }
    }

    @Test(arguments: names) func locksAreLeasesWithFencingTokens(name: String) async throws {
        try await withLedger(name) { ledger in
            try await ledger.recordRelease(release, event: entry("release"))
            try await ledger.recordPlan(plan("p-1", digest: "1"), event: entry("plan"))
            let start = Self.time
            func attempt(_ id: String, at time: Date) async throws -> LockRecord? {
                try await ledger.beginApply(ApplyRecord(id: id, planID: "p-1", env: "prod", stack: "app", actor: "ci", startedAt: time),
                                            lock: LockRecord(env: "prod", stack: "app", applyID: id, holder: "ci-\(id)", host: "runner-\(id)", pid: 1,
                                                             acquiredAt: time, expiresAt: time.addingTimeInterval(60), runURL: "https://ci.example/\(id)"),
                                            event: entry("apply.start"))
            }
            #expect(try await attempt("a-1", at: start) == nil)
            let first = try #require(try await ledger.locks().first)
            #expect(first.token == 1)
            #expect(first.expiresAt == start.addingTimeInterval(60))
            #expect(first.runURL == "https://ci.example/a-1")
            // Another runner sees the live lease and its holder.
            #expect(try await attempt("a-2", at: start.addingTimeInterval(10))?.applyID == "a-1")
            // Renewal extends it; an apply that holds nothing cannot renew.
            #expect(try await ledger.renewLease(applyID: "a-1", until: start.addingTimeInterval(120)))
            #expect(try await ledger.locks().first?.expiresAt == start.addingTimeInterval(120))
            #expect(try await !ledger.renewLease(applyID: "a-9", until: start.addingTimeInterval(500)))
            // A live lease is not expired; a lapsed one is released and its apply interrupted, on the record.
            let events = try await ledger.events().count
            #expect(try await ledger.expireLease(env: "prod", stack: "app", at: start.addingTimeInterval(100), event: entry("lock.expired")) == nil)
            #expect(try await ledger.events().count == events)
            #expect(try await ledger.expireLease(env: "prod", stack: "app", at: start.addingTimeInterval(121), event: entry("lock.expired"))?.applyID == "a-1")
            #expect(try await ledger.events().last?.kind == "lock.expired")
            #expect(try await ledger.locks().isEmpty)
            #expect(try await ledger.applies(env: "prod", stack: "app").first?.outcome == .interrupted)
            // Fencing: the runner that lost its lease cannot record an outcome, and nothing is written.
            await #expect(throws: LeaseLost(applyID: "a-1", env: "prod", stack: "app")) {
                try await ledger.finishApply(id: "a-1", outcome: .success, planStatus: .applied, detail: nil, at: start.addingTimeInterval(130),
                                             lineage: "lin-1", event: entry("apply.finish"))
            }
            #expect(try await ledger.lastGood(env: "prod", stack: "app") == nil)
            #expect(try await ledger.events().count == events + 1)
            // The next acquisition carries the next token.
            #expect(try await attempt("a-3", at: start.addingTimeInterval(140)) == nil)
            #expect(try await ledger.locks().first?.token == 2)
        }
    }

    @Test(arguments: names) func driftResultsAndAcknowledgementsAreKept(name: String) async throws {
        try await withLedger(name) { ledger in
            try await ledger.recordRelease(release, event: entry("release"))
            let drifted = DriftedResource(address: "aws_s3_bucket.logs", kind: .changed,
                                          attributes: [DriftedAttribute(path: "tags.owner", recorded: #""team-a""#, actual: nil)])
            let clean = DriftReport(id: "d-1", env: "prod", stack: "app", releaseID: release.id, actor: "ci", detectedAt: Self.time, resources: [])
            let found = DriftReport(id: "d-2", env: "prod", stack: "app", releaseID: release.id, actor: "ci",
                                    detectedAt: Self.time.addingTimeInterval(60), resources: [drifted])
            try await ledger.recordDrift(clean, event: entry("drift"))
            try await ledger.recordDrift(found, event: entry("drift"))
            try await ledger.recordDrift(DriftReport(id: "d-3", env: "dev", stack: "app", releaseID: release.id, actor: "ci", detectedAt: Self.time, resources: []),
                                         event: entry("drift"))
            #expect(try await ledger.drifts(env: "prod", stack: "app") == [clean, found])
            let acknowledgement = DriftAcknowledgement(id: "k-1", driftID: "d-2", env: "prod", stack: "app", principal: "alice@example.com",
                                                       payload: "{}", signature: "sig", comment: "expected: manual hotfix", createdAt: Self.time)
            try await ledger.recordDriftAcknowledgement(acknowledgement, event: entry("ack"))
            #expect(try await ledger.driftAcknowledgements(env: "prod", stack: "app") == [acknowledgement])
            #expect(try await ledger.driftAcknowledgements(env: "dev", stack: "app").isEmpty)
            // An acknowledgement of a drift run that does not exist is refused, and nothing is recorded.
            var orphan = acknowledgement
            orphan.id = "k-2"
            orphan.driftID = "d-404"
            await #expect(throws: (any Error).self) { try await ledger.recordDriftAcknowledgement(orphan, event: entry("ack")) }
            #expect(try await ledger.events().count == 5)
        }
    }

    @Test(arguments: names) func ephemeralRecordsAreUpdatedInPlace(name: String) async throws {
        try await withLedger(name) { ledger in
            try await ledger.recordRelease(release, event: entry("release"))
            var record = EphemeralRecord(name: "pr-7", like: "stage", releaseID: release.id, status: .creating, actor: "ci",
                                         createdAt: Self.time, expiresAt: Self.time.addingTimeInterval(3600))
            try await ledger.saveEphemeral(record, event: entry("ephemeral"))
            record.status = .up
            record.tests = [EphemeralTestResult(name: "smoke", command: "./smoke.sh", exitStatus: 4, output: "expected 3")]
            try await ledger.saveEphemeral(record, event: entry("ephemeral"))
            #expect(try await ledger.ephemeral(name: "pr-7") == record)
            #expect(try await ledger.ephemerals() == [record])
            #expect(try await ledger.ephemeral(name: "pr-8") == nil)
            var orphan = record
            orphan.name = "pr-9"
            orphan.releaseID = "sha256:" + String(repeating: "f", count: 64)
            await #expect(throws: (any Error).self) { try await ledger.saveEphemeral(orphan, event: entry("ephemeral")) }
            #expect(try await ledger.events().count == 3)
        }
    }

    @Test(arguments: names) func unlockMarksTheApplyInterrupted(name: String) async throws {
        try await withLedger(name) { ledger in
            try await ledger.recordRelease(release, event: entry("release"))
            try await ledger.recordPlan(plan("p-1", digest: "1"), event: entry("plan"))
            let apply = ApplyRecord(id: "a-1", planID: "p-1", env: "prod", stack: "app", actor: "ci", startedAt: Self.time)
            _ = try await ledger.beginApply(apply, lock: LockRecord(env: "prod", stack: "app", applyID: "a-1", holder: "ci", host: "h", pid: 42, acquiredAt: Self.time), event: entry("apply.start"))
            let released = try await ledger.releaseLock(env: "prod", stack: "app", event: entry("unlock"))
            #expect(released?.applyID == "a-1")
            #expect(try await ledger.applies(env: "prod", stack: "app").first?.outcome == .interrupted)
            #expect(try await ledger.releaseLock(env: "prod", stack: "app", event: entry("unlock")) == nil)
        }
    }

    @Test(arguments: names) func everyChangeIsChainedAndVerifies(name: String) async throws {
        try await withLedger(name) { ledger in
            try await ledger.recordRelease(release, event: entry("release"))
            try await ledger.recordPlan(plan("p-1", digest: "1"), event: entry("plan"))
            try await ledger.recordApproval(ApprovalRecord(id: "ap-1", planID: "p-1", decision: .approve, principal: "a@x", payload: "{}",
                                                           signature: "sig", comment: nil, createdAt: Self.time), event: entry("approve"))
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "note", payload: ["nested": ["list": [1, 2, "three"], "ok": true, "pi": .number(3.25)]]))
            let events = try await ledger.events()
            #expect(events.map(\.kind) == ["release", "plan", "approve", "note"])
            #expect(events.map(\.seq) == [1, 2, 3, 4])
            #expect(events[0].prevHash == AuditChain.genesis)
            #expect(events[1].prevHash == events[0].hash)
            #expect(AuditChain.verify(events) == nil)
            #expect(events[3].payload["nested"]?["pi"] == .number(3.25))
            // The stored form is the same events, their JSON text exactly what was hashed.
            let stored = try await ledger.storedEvents()
            #expect(stored == events.map(StoredAuditEvent.init))
            #expect(AuditChain.verify(stored: stored) == nil)
        }
    }

    @Test(arguments: names) func concurrentAppendsLeaveOneIntactChain(name: String) async throws {
        try await StoreUnderTest.with(name) { store in
            try await store.withSecondLedger { second in
                // Eight writers at once, half through a second ledger (another process's connections).
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<8 {
                        let ledger = writer.isMultiple(of: 2) ? store.ledger : second
                        group.addTask {
                            for index in 0..<10 {
                                try await ledger.appendEvent(AuditEntry(actor: "w\(writer)", kind: "note", subjects: ["i": "\(index)"]))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let stored = try await store.ledger.storedEvents()
            #expect(stored.map(\.seq) == Array(1...80))
            #expect(AuditChain.verify(stored: stored) == nil)
            #expect(Set(stored.map(\.hash)).count == 80)
            #expect(try await store.ledger.auditHead() == AuditHead(seq: 80, hash: stored[79].hash))
            #expect(try await store.ledger.auditHash(seq: 41) == stored[40].hash)
            #expect(try await store.ledger.auditHash(seq: 81) == nil)
        }
    }

    @Test(arguments: names) func exactlyOneOfTwoLedgersRacingForALockAcquiresIt(name: String) async throws {
        try await StoreUnderTest.with(name) { store in
            try await store.ledger.recordRelease(release, event: entry("release"))
            try await store.ledger.recordPlan(plan("p-1", digest: "1"), event: entry("plan"))
            try await store.withSecondLedger { second in
                let outcomes = try await withThrowingTaskGroup(of: (String, LockRecord?).self) { group in
                    for contender in 0..<8 {
                        let ledger = contender.isMultiple(of: 2) ? store.ledger : second
                        group.addTask {
                            let id = "a-\(contender)"
                            let apply = ApplyRecord(id: id, planID: "p-1", env: "prod", stack: "app", actor: "ci-\(contender)", startedAt: Self.time)
                            let lock = LockRecord(env: "prod", stack: "app", applyID: id, holder: "ci-\(contender)", host: "h", pid: Int32(contender),
                                                  acquiredAt: Self.time)
                            return (id, try await ledger.beginApply(apply, lock: lock, event: entry("apply.start")))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let winners = outcomes.filter { $0.1 == nil }.map(\.0)
                #expect(winners.count == 1)
                let winner = try #require(winners.first)
                // Every loser was told who holds the lock, and recorded nothing.
                #expect(outcomes.compactMap(\.1).map(\.applyID) == Array(repeating: winner, count: 7))
                #expect(try await second.locks().map(\.applyID) == [winner])
                #expect(try await store.ledger.applies(env: "prod", stack: "app").map(\.id) == [winner])
                #expect(try await store.ledger.events().map(\.kind) == ["release", "plan", "apply.start"])
            }
        }
    }

    @Test(arguments: names) func auditEventsCannotBeUpdatedOrDeleted(name: String) async throws {
        try await StoreUnderTest.with(name) { store in
            try await store.ledger.appendEvent(entry("one"))
            try await store.ledger.appendEvent(entry("two"))
            await #expect(throws: (any Error).self) { try await store.execute(["UPDATE events SET actor = 'mallory' WHERE seq = 1"]) }
            await #expect(throws: (any Error).self) { try await store.execute(["DELETE FROM events WHERE seq = 2"]) }
            await #expect(throws: (any Error).self) { try await store.execute(["DELETE FROM events"]) }
            #expect(try await store.ledger.events().map(\.actor) == ["tester", "tester"])
            #expect(AuditChain.verify(stored: try await store.ledger.storedEvents()) == nil)
        }
    }

    @Test(arguments: names) func corruptRowsAreErrorsNamingTheRow(name: String) async throws {
        try await StoreUnderTest.with(name) { store in
            let ledger = store.ledger
            try await ledger.recordRelease(release, event: entry("release"))
            var checked = plan("p-1", digest: "1")
            checked.checks = [CheckResult(name: "cost", status: .warn, details: ["+$12/month"])]
            try await ledger.recordPlan(checked, event: entry("plan"))
            #expect(try await ledger.plan(id: "p-1") == checked)
            let record = EphemeralRecord(name: "pr-7", like: "stage", releaseID: release.id, status: .up, actor: "ci",
                                         createdAt: Self.time, expiresAt: Self.time.addingTimeInterval(3600))
            try await ledger.saveEphemeral(record, event: entry("ephemeral"))

            // Valid JSON of the wrong shape: neither store may read it as an empty list.
            try await store.execute([#"UPDATE plans SET checks = '[{"nope":true}]' WHERE id = 'p-1'"#])
            await #expect { try await ledger.plan(id: "p-1") } throws: { corruptRow($0) == "plans/p-1/checks" }
            await #expect { try await ledger.plans(env: "prod", stack: "app") } throws: { corruptRow($0) == "plans/p-1/checks" }
            try await store.execute([#"UPDATE plans SET checks = '[]', summary = '{"create":"many"}' WHERE id = 'p-1'"#])
            await #expect { try await ledger.plan(id: "p-1") } throws: { corruptRow($0) == "plans/p-1/summary" }
            try await store.execute(["UPDATE releases SET files = '[1]'"])
            await #expect { try await ledger.releases() } throws: { corruptRow($0) == "releases/\(release.id)/files" }
            try await store.execute([#"UPDATE ephemerals SET tests = '[{"name":"smoke"}]' WHERE name = 'pr-7'"#])
            await #expect { try await ledger.ephemeral(name: "pr-7") } throws: { corruptRow($0) == "ephemerals/pr-7/tests" }
            // The error says which row and column to restore.
            do {
                _ = try await ledger.ephemerals()
                Issue.record("a corrupt row was read")
            } catch {
                #expect("\(error)".hasPrefix("the ledger's ephemerals row 'pr-7' has an unreadable 'tests': "))
            }
        }
    }
}

/// SQLite specifics: WAL, append-only events, and `audit verify` finding tampering done with raw SQL.
@Suite struct SQLiteLedgerTests {
    func populated() async throws -> (SQLiteLedger, TemporaryDirectory, String) {
        let directory = try TemporaryDirectory("tollgate-sqlite")
        let path = directory.path + "/ledger.sqlite"
        let ledger = try SQLiteLedger(path: path, effects: fixedEffects())
        for index in 1...5 {
            try await ledger.appendEvent(AuditEntry(actor: "t", kind: "k\(index)", subjects: ["n": "\(index)"]))
        }
        return (ledger, directory, path)
    }

    /// Tampering as an attacker with write access would: drop the guards, change the rows.
    func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
            try db.execute(sql: sql)
        }
    }

    @Test func eventsAreAppendOnly() async throws {
        let (_, directory, path) = try await populated()
        defer { directory.remove() }
        let queue = try DatabaseQueue(path: path)
        #expect(throws: (any Error).self) { try queue.write { db in try db.execute(sql: "UPDATE events SET actor = 'x' WHERE seq = 2") } }
        #expect(throws: (any Error).self) { try queue.write { db in try db.execute(sql: "DELETE FROM events WHERE seq = 2") } }
        let mode = try await queue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func editedRowIsNamed() async throws {
        let (ledger, directory, path) = try await populated()
        defer { directory.remove() }
        try tamper(path, "UPDATE events SET actor = 'mallory' WHERE seq = 3")
        #expect(AuditChain.verify(try await ledger.events()) == AuditChain.Break(seq: 3, reason: "its content does not match its hash; the row was edited"))
    }

    @Test func aRewriteOfTheStoredTextIsNamedEvenWhenTheValueIsEqual() async throws {
        let (ledger, directory, path) = try await populated()
        defer { directory.remove() }
        let before = try #require(try await ledger.storedEvents().first { $0.seq == 2 })
        // Same JSON value, other bytes: decoding would hide it; the stored text is what was hashed.
        try tamper(path, "UPDATE events SET payload = ' ' || payload WHERE seq = 2")
        let stored = try await ledger.storedEvents()
        #expect(stored.first { $0.seq == 2 }?.payload == " " + before.payload)
        #expect(AuditChain.verify(stored: stored) == AuditChain.Break(seq: 2, reason: "its content does not match its hash; the row was edited"))
    }

    @Test func deletedRowIsNamed() async throws {
        let (ledger, directory, path) = try await populated()
        defer { directory.remove() }
        try tamper(path, "DELETE FROM events WHERE seq = 2")
        let broken = AuditChain.verify(try await ledger.events())
        #expect(broken?.seq == 3)
        #expect(broken?.reason == "expected event 2 here; events 2…2 are missing")
    }

    @Test func swappedRowsAreNamed() async throws {
        let (ledger, directory, path) = try await populated()
        defer { directory.remove() }
        // Swap the contents of events 2 and 4 while keeping the sequence numbers in place.
        try tamper(path, """
            UPDATE events SET seq = -2 WHERE seq = 2; UPDATE events SET seq = -4 WHERE seq = 4;
            UPDATE events SET seq = 4 WHERE seq = -2; UPDATE events SET seq = 2 WHERE seq = -4;
            """)
        let events = try await ledger.events().sorted { $0.seq < $1.seq }
        let broken = AuditChain.verify(events)
        #expect(broken?.seq == 2)
    }

    @Test func artifactsAreRehashedOnRead() async throws {
        let directory = try TemporaryDirectory("tollgate-artifacts")
        defer { directory.remove() }
        let store = FileArtifactStore(root: directory.path)
        let id = try await store.put(Data("plan bytes".utf8))
        #expect(id == Digest.id(Data("plan bytes".utf8)))
        #expect(try await store.get(id) == Data("plan bytes".utf8))
        let hex = id.dropFirst(7)
        try Data("evil bytes".utf8).write(to: URL(fileURLWithPath: "\(directory.path)/sha256/\(hex.prefix(2))/\(hex)"))
        await #expect(throws: ArtifactError.self) { try await store.get(id) }
    }
}
