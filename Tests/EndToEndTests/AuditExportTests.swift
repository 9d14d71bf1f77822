import Foundation
import TestSupport
import Testing

/// `tollgate audit export` writes the chained log as JSON Lines, and `audit verify --file` checks
/// such a copy on its own, naming the first edited event or the unreadable line.
@Suite struct AuditExportTests {
    @Test func anExportVerifiesOnItsOwnAndAnEditIsNamed() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        let ledger = try repo.cli.run("audit", "verify", "--format", "json").json()
        let count = try #require(ledger["events"] as? Int)
        #expect(count > 5)

        let file = repo.root + "/audit.jsonl"
        let exported = try repo.cli.run("audit", "export", "--out", file)
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stderr.contains("wrote \(count) events to \(file)"))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        // A header naming the count and the head, then one line per event.
        #expect(lines.count == count + 1)
        let head = try #require(ledger["head"] as? String)
        #expect(lines[0] == "{\"tollgate_audit_export\":1,\"events\":\(count),\"head\":\"\(head)\",\"head_seq\":\(count)}")
        #expect(try repo.cli.run("audit", "export").stdout == text)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(first["seq"] as? Int == 1 && first["prev_hash"] as? String == String(repeating: "0", count: 64))
        #expect(first["kind"] as? String == "release.created")

        // Verified from a directory with no tollgate.yaml: the copy stands on its own.
        let outside = CLI(directory: repo.root, engine: nil, cache: repo.root + "/cache")
        let copy = try outside.run("audit", "verify", "--file", file, "--format", "json").json()
        #expect(copy["intact"] as? Bool == true)
        #expect(copy["events"] as? Int == count)
        #expect(copy["head"] as? String == ledger["head"] as? String)

        // One event's actor edited in the copy.
        let edited = repo.root + "/edited.jsonl"
        var changed = lines
        changed[3] = changed[3].replacingOccurrences(of: "\"actor\":\"ci@example.com\"", with: "\"actor\":\"mallory@example.com\"")
        #expect(changed[3] != lines[3])
        try Data((changed.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: edited))
        let broken = try outside.run("audit", "verify", "--file", edited)
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("audit chain BROKEN at event 3: its content does not match its hash"), "\(broken.stdout)")

        // A line dropped: the next event names the gap.
        let dropped = repo.root + "/dropped.jsonl"
        try Data((lines.enumerated().filter { $0.offset != 2 }.map(\.element).joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dropped))
        let gap = try outside.run("audit", "verify", "--file", dropped)
        #expect(gap.status == 1)
        #expect(gap.stdout.contains("audit chain BROKEN at event 3: expected event 2 here"), "\(gap.stdout)")

        // Unreadable input is an error naming the file and line, not a crash.
        let garbled = repo.root + "/garbled.jsonl"
        try Data((lines[0] + "\n" + "{not json\n").utf8).write(to: URL(fileURLWithPath: garbled))
        let bad = try outside.run("audit", "verify", "--file", garbled)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("\(garbled):2:1: not valid JSON"), "\(bad.stderr)")
        let missing = try outside.run("audit", "verify", "--file", repo.root + "/nowhere.jsonl")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read '\(repo.root)/nowhere.jsonl'"), "\(missing.stderr)")
    }
}
