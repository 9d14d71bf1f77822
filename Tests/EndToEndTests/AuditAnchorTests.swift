import Foundation
import TestSupport
import Testing

/// The audit chain's head anchored outside the ledger, on the built binary and a real engine: the
/// ref `refs/tollgate/audit-head` and the release tags' trailers catch a log or an export whose
/// tail was cut, or that was emptied or re-chained; events timed before their predecessor are flagged.
@Suite struct AuditAnchorTests {
    /// One event as `audit export` writes it.
    struct Event {
        var seq: Int
        var hash: String
        var time: Int64
        var kind: String
        var stack: String?
    }

    /// The ledger's events, read through `audit export`.
    static func events(_ repo: PromotionRepo) throws -> [Event] {
        let exported = try repo.cli.run("audit", "export")
        guard exported.status == 0 else { throw TestSupportError("export: \(exported.stderr)") }
        return try exported.stdout.split(separator: "\n").dropFirst().map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let seq = object["seq"] as? Int, let hash = object["hash"] as? String, let time = object["time"] as? Int64,
                  let kind = object["kind"] as? String else { throw TestSupportError("not an event: \(line)") }
            return Event(seq: seq, hash: hash, time: time, kind: kind, stack: (object["subjects"] as? [String: String])?["stack"])
        }
    }

    /// The anchors `audit verify --format json` reports: source, seq, hash, written-at, status.
    struct Anchor: Equatable {
        var source: String
        var seq: Int
        var hash: String
        var writtenAt: String
        var status: String
    }

    static func anchors(_ json: [String: Any]) -> [Anchor] {
        ((json["anchors"] as? [[String: Any]]) ?? []).map {
            Anchor(source: $0["source"] as? String ?? "", seq: $0["seq"] as? Int ?? 0, hash: $0["hash"] as? String ?? "",
                   writtenAt: $0["written_at"] as? String ?? "", status: $0["status"] as? String ?? "")
        }
    }

    /// How `audit verify` prints an anchor line.
    static func line(_ anchor: Anchor, status: String) -> String {
        "anchor \(anchor.source) names event \(anchor.seq) (written \(anchor.writtenAt)): \(status)"
    }

    static func timestamp(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// A repository promoted to dev: the release, two applies, two tags, the head ref.
    static func promoted() throws -> (repo: PromotionRepo, events: [Event], anchors: [Anchor]) {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        try repo.promote("dev")
        let events = try Self.events(repo)
        let verified = try repo.cli.run("audit", "verify", "--format", "json")
        guard verified.status == 0 else { throw TestSupportError("verify: \(verified.stdout)") }
        return (repo, events, anchors(try verified.json()))
    }

    @Test func theHeadRefAndTheTagsNameTheChainHead() throws {
        let (repo, events, anchors) = try Self.promoted()
        defer { repo.remove() }
        let last = try #require(events.last)
        let network = try #require(events.last { $0.kind == "apply.finished" && $0.stack == "network" })
        let app = try #require(events.last { $0.kind == "apply.finished" && $0.stack == "app" })

        // The ref's commit names the last event; each tag names the head as of its apply's finish.
        let message = try PromotionRepo.shell("git log -1 --format=%B refs/tollgate/audit-head", in: repo.repository)
        let written = try #require(anchors.first?.writtenAt)
        #expect(message == "tollgate: audit chain head at event \(last.seq)\n\nTollgate-Audit-Head: \(last.seq) \(last.hash)\nTollgate-Audit-Head-Written-At: \(written)\n\n")
        for (stack, event) in [("network", network), ("app", app)] {
            let tag = try PromotionRepo.shell("git for-each-ref --format='%(contents)' refs/tags/tollgate/dev/\(stack)/1", in: repo.repository)
            #expect(tag.hasSuffix("Tollgate-Audit-Head: \(event.seq) \(event.hash)\n\n"), "\(tag)")
            #expect(tag.contains("Tollgate-Release: \(repo.release)\n"))
        }
        #expect(anchors.map(\.source) == ["refs/tollgate/audit-head", "refs/tags/tollgate/dev/app/1", "refs/tags/tollgate/dev/network/1"])
        #expect(anchors.map(\.seq) == [last.seq, app.seq, network.seq])
        #expect(anchors.map(\.hash) == [last.hash, app.hash, network.hash])
        #expect(anchors.allSatisfy { $0.status == "matches" })

        let text = try repo.cli.run("audit", "verify")
        #expect(text.status == 0)
        #expect(text.stdout == ([
            "audit chain intact: \(events.count) events, head \(last.hash)",
        ] + anchors.map { Self.line($0, status: "matches") }).joined(separator: "\n") + "\n")
        #expect(text.stderr == "")

        // A refusal records events, so it moves the anchor too.
        let refused = try repo.cli.run("promote", repo.release, "--to", "prod")
        #expect(refused.status == 3, "\(refused.stdout)\(refused.stderr)")
        let after = try Self.events(repo)
        #expect(after.count > events.count)
        let moved = try PromotionRepo.shell("git log -1 --format=%B refs/tollgate/audit-head", in: repo.repository)
        #expect(moved.hasPrefix("tollgate: audit chain head at event \(after.last!.seq)\n\nTollgate-Audit-Head: \(after.last!.seq) \(after.last!.hash)\n"))
        // Each anchor is a commit whose parent is the anchor before: the ref only moves forward.
        let parent = try PromotionRepo.shell("git log -1 --format=%B refs/tollgate/audit-head^", in: repo.repository)
        #expect(parent == message)
    }

    @Test func deletingTheLastEventsOrAllOfThemFailsVerification() throws {
        let (repo, events, anchors) = try Self.promoted()
        defer { repo.remove() }
        let count = events.count
        let head = anchors[0]
        #expect(head.source == "refs/tollgate/audit-head" && head.seq == count)
        let ledger = repo.repository + "/.tollgate/ledger.sqlite"
        let pristine = try Data(contentsOf: URL(fileURLWithPath: ledger))

        try repo.sql("DELETE FROM events WHERE seq > \(count - 2);")
        let cut = try repo.cli.run("audit", "verify")
        #expect(cut.status == 1)
        #expect(cut.stdout == ([
            "audit chain BROKEN at event \(count - 1): the log ends at event \(count - 2), but the anchor refs/tollgate/audit-head "
                + "(written \(head.writtenAt)) names event \(count): events \(count - 1)…\(count) were removed; "
                + "restore the ledger from a backup or an export that holds them",
        ] + anchors.map { Self.line($0, status: $0.seq > count - 2 ? "beyond the end of the log" : "matches") }).joined(separator: "\n") + "\n")
        let json = try repo.cli.run("audit", "verify", "--format", "json")
        #expect(json.status == 1)
        #expect(try json.json()["first_bad_event"] as? Int == count - 1)
        #expect(Self.anchors(try json.json()).map(\.status) == anchors.map { $0.seq > count - 2 ? "beyond-the-log" : "matches" })

        // A later command does not move the anchor over the gap: new events fill the cut numbers with other hashes.
        let again = try repo.cli.run("release")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("tollgate: warning: the audit anchor refs/tollgate/audit-head was not moved to event \(count - 1): it names event \(count), "
            + "and an anchor only moves forward; run 'tollgate audit verify' to see whether the log lost events"), "\(again.stderr)")
        // Nor once they pass it: the ledger's event at the anchor's number no longer has the anchored hash.
        for _ in 0..<2 { _ = try repo.cli.run("release") }
        let past = try repo.cli.run("release")
        #expect(past.status == 0, "\(past.stderr)")
        #expect(past.stderr.contains("tollgate: warning: the audit anchor refs/tollgate/audit-head was not moved to event \(count + 2): it names event \(count), "
            + "which the ledger no longer holds with that hash; run 'tollgate audit verify' to see what the log lost"), "\(past.stderr)")
        let kept = try PromotionRepo.shell("git log -1 --format=%B refs/tollgate/audit-head", in: repo.repository)
        #expect(kept.contains("Tollgate-Audit-Head: \(count) \(head.hash)\n"))

        try pristine.write(to: URL(fileURLWithPath: ledger))
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: ledger + suffix) }
        try repo.sql("DELETE FROM events;")
        let emptied = try repo.cli.run("audit", "verify")
        #expect(emptied.status == 1)
        #expect(emptied.stdout == ([
            "audit chain BROKEN at event 1: the log is empty, but the anchor refs/tollgate/audit-head (written \(head.writtenAt)) names event \(count): "
                + "events 1…\(count) were removed; restore the ledger from a backup or an export that holds them",
        ] + anchors.map { Self.line($0, status: "beyond the end of the log") }).joined(separator: "\n") + "\n")
    }

    @Test func anExportCutByOneLineFailsOnItsHeaderAndOnTheAnchors() throws {
        let (repo, events, anchors) = try Self.promoted()
        defer { repo.remove() }
        let count = events.count
        let file = repo.root + "/audit.jsonl"
        #expect(try repo.cli.run("audit", "export", "--out", file).status == 0)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == count + 1)

        let cut = repo.root + "/cut.jsonl"
        try Data((lines.dropLast().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: cut))
        let short = "audit chain BROKEN at event \(count): the export holds \(count - 1) events, but its header names \(count): "
            + "event \(count) was cut from its end; export the log again with 'tollgate audit export'"
        // Outside any repository: the header alone catches it.
        let outside = CLI(directory: repo.root, engine: nil, cache: repo.root + "/cache")
        let alone = try outside.run("audit", "verify", "--file", cut)
        #expect(alone.status == 1)
        #expect(alone.stdout == short + "\n")
        #expect(alone.stderr == "tollgate: warning: no anchor found in a repository here; the export was checked against its own header only\n")
        // Inside the repository, the anchors are listed too.
        let inside = try repo.cli.run("audit", "verify", "--file", cut)
        #expect(inside.status == 1)
        #expect(inside.stdout == ([short] + anchors.map { Self.line($0, status: $0.seq == count ? "beyond the end of the export" : "matches") })
            .joined(separator: "\n") + "\n")

        // The header rewritten to fit the cut copy: only the anchors can tell.
        let previous = events[count - 2]
        let forged = repo.root + "/forged.jsonl"
        let header = "{\"tollgate_audit_export\":1,\"events\":\(count - 1),\"head\":\"\(previous.hash)\",\"head_seq\":\(count - 1)}"
        try Data((([header] + lines.dropFirst().dropLast()).joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: forged))
        #expect(try outside.run("audit", "verify", "--file", forged).status == 0)
        let caught = try repo.cli.run("audit", "verify", "--file", forged)
        #expect(caught.status == 1)
        #expect(caught.stdout.split(separator: "\n").first.map(String.init)
            == "audit chain BROKEN at event \(count): the export ends at event \(count - 1), but the anchor refs/tollgate/audit-head "
            + "(written \(anchors[0].writtenAt)) names event \(count): event \(count) is missing from it; export the log again with 'tollgate audit export'")

        // An export from before headers still reads, with a warning that its tail cannot be checked.
        let old = repo.root + "/old.jsonl"
        try Data((lines.dropFirst().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: old))
        let legacy = try outside.run("audit", "verify", "--file", old)
        #expect(legacy.status == 0)
        #expect(legacy.stdout == "audit chain intact: \(count) events, head \(events[count - 1].hash)\n")
        #expect(legacy.stderr == "tollgate: warning: '\(old)' has no export header (it was written by an older tollgate), so lines cut from its end "
            + "cannot be noticed from the file alone; export the log again for a copy whose tail can be checked\n")
    }

    @Test func anEventTimedBeforeItsPredecessorIsFlagged() throws {
        let (repo, events, anchors) = try Self.promoted()
        defer { repo.remove() }
        let count = events.count
        let previous = events[count - 2]
        let backdated = previous.time - 1500
        try repo.rechain(seq: count, time: backdated)
        let rewritten = try Self.events(repo)
        #expect(rewritten.count == count && rewritten[count - 1].time == backdated && rewritten[count - 1].hash != events[count - 1].hash)
        let flag = "out of time order: event \(count) is timed \(Self.timestamp(backdated)), earlier than event \(count - 1) at "
            + "\(Self.timestamp(previous.time)); a clock went back, or the event was back-dated"

        // Re-chained, the log hangs together, but the anchors still name the old hash.
        let verified = try repo.cli.run("audit", "verify")
        #expect(verified.status == 1)
        #expect(verified.stdout == ([
            "audit chain BROKEN at event \(count): its hash is \(rewritten[count - 1].hash), but the anchor refs/tollgate/audit-head "
                + "(written \(anchors[0].writtenAt)) names \(events[count - 1].hash): the log was rewritten and re-chained at or before this event; "
                + "restore it from a backup or an export that matches the anchor",
        ] + anchors.map { Self.line($0, status: $0.seq == count ? "its hash differs" : "matches") } + [flag]).joined(separator: "\n") + "\n")

        // With the anchors gone too, only the time order is wrong: flagged, and the chain verifies.
        try PromotionRepo.shell("git update-ref -d refs/tollgate/audit-head && git tag -l 'tollgate/*' | xargs git tag -d", in: repo.repository)
        let flagged = try repo.cli.run("audit", "verify")
        #expect(flagged.status == 0)
        #expect(flagged.stdout == "audit chain intact: \(count) events, head \(rewritten[count - 1].hash)\n\(flag)\n")
        #expect(flagged.stderr == "tollgate: warning: no anchor found outside the ledger; the tail of the log cannot be checked\n")
        let json = try repo.cli.run("audit", "verify", "--format", "json").json()
        let order = try #require(json["time_order"] as? [[String: Any]])
        #expect(order.count == 1)
        #expect(order.first?["seq"] as? Int == count && order.first?["previous_seq"] as? Int == count - 1)
        #expect(order.first?["time"] as? String == Self.timestamp(backdated) && order.first?["previous_time"] as? String == Self.timestamp(previous.time))
        #expect((json["anchors"] as? [Any])?.isEmpty == true)

        // The same flag on an export of that log.
        let file = repo.root + "/audit.jsonl"
        #expect(try repo.cli.run("audit", "export", "--out", file).status == 0)
        let copy = try repo.cli.run("audit", "verify", "--file", file)
        #expect(copy.status == 0)
        #expect(copy.stdout == "audit chain intact: \(count) events, head \(rewritten[count - 1].hash)\n\(flag)\n")
    }

    @Test func outsideARepositoryTheCommandStillRunsAndWarnsOnce() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try FileManager.default.removeItem(atPath: repo.repository + "/.git")
        let unlocked = try repo.cli.run("unlock", "dev", "network", "--reason", "testing")
        let warnings = unlocked.stderr.split(separator: "\n").filter { $0.contains("audit anchor") }
        #expect(warnings == ["tollgate: warning: the audit anchor refs/tollgate/audit-head could not be written: '\(repo.repository)' is not inside a git repository; "
            + "run tollgate in the repository that holds tollgate.yaml; the log's tail is not anchored outside the ledger until a later command writes it"],
            "\(unlocked.status) \(unlocked.stderr)")
    }
}

extension PromotionRepo {
    /// Sets event `seq`'s time (milliseconds) and re-hashes the chain from there, as an attacker
    /// who knows the hashing would: the chain holds together, only the time order is wrong.
    func rechain(seq: Int, time: Int64) throws {
        let script = """
            import hashlib, json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.executescript("DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;")
            seq, time = int(sys.argv[2]), int(sys.argv[3])
            db.execute("UPDATE events SET time = ? WHERE seq = ?", (time, seq))
            prev = db.execute("SELECT hash FROM events WHERE seq = ?", (seq - 1,)).fetchone()[0]
            rows = db.execute("SELECT seq, time, actor, kind, subjects, payload FROM events WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
            for s, t, actor, kind, subjects, payload in rows:
                body = '{"actor":%s,"kind":%s,"payload":%s,"seq":%d,"subjects":%s,"time":%d}' % (
                    json.dumps(actor, ensure_ascii=False), json.dumps(kind, ensure_ascii=False), payload, s, subjects, t)
                digest = hashlib.sha256((prev + body).encode()).hexdigest()
                db.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, s))
                prev = digest
            db.commit()
            """
        let (status, output) = try TestProcess.run("/usr/bin/env", ["python3", "-c", script, repository + "/.tollgate/ledger.sqlite", "\(seq)", "\(time)"])
        guard status == 0 else { throw TestSupportError("rechain failed: \(output)") }
    }
}
