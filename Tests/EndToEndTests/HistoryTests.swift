import Foundation
import TestSupport
import Testing

/// `tollgate history` on the built binary and a real engine: the ledger's history of prod, the
/// annotated tags every successful apply leaves, and the same history read back from those tags
/// in a fresh clone whose ledger is empty.
@Suite struct HistoryTests {
    @Test(arguments: TestEngines.all) func historyIsRecordedAndRecoveredFromTags(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        var digests: [String: String] = [:]
        for stack in ["network", "app"] {
            let plan = try repo.plan("prod", stack)
            let shown = try repo.cli.run("show", plan, "--format", "json")
            digests[stack] = try #require((try shown.json()["plan"] as? [String: Any])?["digest"] as? String)
            #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
            let applied = try repo.cli.run("apply", plan)
            #expect(applied.status == 0, "\(applied.stderr)")
        }

        let history = try repo.cli.run("history", "--env", "prod", "--format", "json")
        #expect(history.status == 0, "\(history.stderr)")
        let report = try history.json()
        #expect(report["source"] as? String == "ledger")
        let entries = try #require(report["entries"] as? [[String: Any]])
        #expect(entries.map { $0["stack"] as? String } == ["network", "app"])
        #expect(entries.map { $0["plan_digest"] as? String } == [digests["network"], digests["app"]])
        #expect(entries.allSatisfy { $0["release"] as? String == repo.release })
        #expect(entries.allSatisfy { $0["approvers"] as? [String] == ["approver@example.com"] })
        #expect(entries.allSatisfy { $0["outcome"] as? String == "success" && $0["last_good"] as? Bool == true && $0["pr"] as? Int == 42 })
        #expect(entries.map { $0["tag"] as? String } == ["tollgate/prod/network/1", "tollgate/prod/app/1"])

        // The tag is annotated, and its message names both digests.
        #expect(try PromotionRepo.shell("git cat-file -t refs/tags/tollgate/prod/app/1", in: repo.repository) == "tag\n")
        let message = try PromotionRepo.shell("git for-each-ref --format='%(contents)' refs/tags/tollgate/prod/app/1", in: repo.repository)
        #expect(message.contains("Tollgate-Release: \(repo.release)\n"))
        #expect(message.contains("Tollgate-Plan-Digest: \(try #require(digests["app"]))\n"))
        #expect(message.contains("Tollgate-Approvers: approver@example.com\n"))

        // A fresh clone: the tags come along, the ledger does not.
        let clone = repo.root + "/clone"
        try PromotionRepo.shell("git clone -q '\(repo.repository)' '\(clone)'")
        var cloned = CLI(directory: clone, engine: engine, cache: repo.root + "/cache")
        cloned.environment["TOLLGATE_ACTOR"] = "ci@example.com"
        cloned.environment["TOLLGATE_HOME"] = nil
        cloned.environment["TOLLGATE_DATABASE"] = nil
        #expect(!FileManager.default.fileExists(atPath: clone + "/.tollgate/ledger.sqlite"))
        let tracked = try Self.files(under: clone + "/.tollgate")
        #expect(tracked == ["allowed_signers"])
        let recovered = try cloned.run("history", "--env", "prod", "--format", "json")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        let fromTags = try recovered.json()
        #expect(fromTags["source"] as? String == "tags")
        let recoveredEntries = try #require(fromTags["entries"] as? [[String: Any]])
        #expect(NSArray(array: recoveredEntries).isEqual(to: entries), "\(recoveredEntries) != \(entries)")

        let text = try cloned.run("history", "--env", "prod")
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("recovered from 2 git tags: the ledger has no record of these applies\n"))
        #expect(text.stdout.contains("prod/app  success"))
        #expect(text.stdout.contains("tollgate/prod/app/1  (last-good)"))
        // Recovery only read: the clone's ledger still has no apply on record.
        let trace = try cloned.run("audit", "trace", "--env", "prod", "--format", "json")
        #expect(try trace.jsonArray().isEmpty)
        // The other read-only commands on a clone with no ledger: they read an empty one.
        #expect(try cloned.run("status").status == 0)
        // The tags anchor events this clone's (empty) ledger does not hold: verify says so, and still writes nothing.
        let verified = try cloned.run("audit", "verify")
        #expect(verified.status == 1)
        #expect(verified.stdout.contains("names event 1") && verified.stdout.contains("beyond the end of the log"), "\(verified.stdout)")
        // Looking wrote nothing: no ledger, no new file under .tollgate/.
        #expect(!FileManager.default.fileExists(atPath: clone + "/.tollgate/ledger.sqlite"))
        #expect(try Self.files(under: clone + "/.tollgate") == tracked)
    }

    /// Tags signed with TOLLGATE_TAG_SIGNING_KEY are checked against the signers file in a fresh
    /// clone: a well-formed forged tag among them is left out, and an approver nobody lists is flagged.
    @Test(arguments: TestEngines.all)
    func signedTagsAreCheckedAndAForgedOneIsLeftOut(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        try PromotionRepo.shell("ssh-keygen -q -t ed25519 -N '' -C tagger -f \(repo.root)/tagger")
        let key = try String(contentsOfFile: "\(repo.root)/tagger.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try repo.edit(".tollgate/allowed_signers", commit: "the key tollgate signs its tags with") { $0 + "tagger@example.com namespaces=\"git\" \(key)\n" }
        var cli = repo.cli
        cli.environment["TOLLGATE_TAG_SIGNING_KEY"] = repo.root + "/tagger"
        #expect(try cli.run("promote", repo.release, "--to", "dev").status == 0)
        let forged = """
            tollgate: release applied

            Tollgate-Release: \(repo.release)
            Tollgate-Plan-Digest: sha256:\(String(repeating: "ab", count: 32))
            Tollgate-Plan: p-forged
            Tollgate-Env: dev
            Tollgate-Stack: app
            Tollgate-Approvers: mallory@example.com
            Tollgate-Applied-At: 2030-01-01T00:00:00.000Z
            """
        try PromotionRepo.shell("git -c user.name=m -c user.email=m@example.com tag -a tollgate/dev/app/2 -m '\(forged)' HEAD", in: repo.repository)

        let clone = repo.root + "/clone"
        try PromotionRepo.shell("git clone -q '\(repo.repository)' '\(clone)'")
        var cloned = CLI(directory: clone, engine: engine, cache: repo.root + "/cache")
        cloned.environment["TOLLGATE_HOME"] = nil
        cloned.environment["TOLLGATE_DATABASE"] = nil
        let signed = try cloned.run("history", "--env", "dev", "--format", "json")
        #expect(signed.status == 0, "\(signed.stderr)")
        let report = try signed.json()
        let entries = report["entries"] as? [[String: Any]] ?? []
        #expect(entries.map { $0["tag"] as? String } == ["tollgate/dev/network/1", "tollgate/dev/app/1"])
        #expect(entries.map { $0["tag_signed_by"] as? String } == ["tagger@example.com", "tagger@example.com"])
        #expect(entries.allSatisfy { $0["unlisted_approvers"] == nil && $0["last_good"] as? Bool == true })
        #expect(report["warnings"] as? [String] == [
            "skipped tag 'tollgate/dev/app/2': the other tags of 'dev' are signed, and this one has no signature the signers file verifies; delete it if tollgate did not make it",
        ])

        // With no signed tag at all, the forgery is read, but flagged: unsigned, and its approver unlisted.
        try PromotionRepo.shell("git tag -d tollgate/dev/network/1 tollgate/dev/app/1 >/dev/null", in: clone)
        let unsigned = try cloned.run("history", "--env", "dev", "--format", "json").json()
        let entry = (unsigned["entries"] as? [[String: Any]])?.first
        #expect(entry?["tag"] as? String == "tollgate/dev/app/2")
        #expect(entry?["tag_signed_by"] == nil)
        #expect(entry?["unlisted_approvers"] as? [String] == ["mallory@example.com"])
        #expect(unsigned["warnings"] as? [String] == [
            "the tags are not signed (tollgate/dev/app/2), so anyone who could push a tag could have written them; set TOLLGATE_TAG_SIGNING_KEY where tollgate applies so its tags are signed",
            "tag 'tollgate/dev/app/2' names approver mallory@example.com, whom the signers file does not list: nothing vouches for that approval",
        ])
    }

    /// Every file and directory below `root`, relative to it, sorted.
    static func files(under root: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: root).sorted()
    }
}
