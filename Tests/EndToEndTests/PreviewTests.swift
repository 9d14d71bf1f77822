import Foundation
import TestSupport
import Testing

/// `tollgate plan --preview` on the built binary and a real engine: it plans against the real
/// backend, skips the order rule and the approval gate (reporting them instead), and writes
/// nothing — no ledger record, no artifact, no event, not even a ledger file.
@Suite struct PreviewTests {
    static let engines = TestEngines.all

    /// Every file under a directory with its bytes, to prove a command left it as it was.
    static func snapshot(_ directory: String) -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return files }
        while let path = walker.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: directory + "/" + path) { files[path] = data }
        }
        return files
    }

    /// Plan ids (`p-…`) anywhere in a command's output.
    static func planIDs(_ text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "\\bp-[0-9a-zA-Z]{4,}")
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range, in: text).map { String(text[$0]) } }
    }

    /// The error line of a failed command (after the progress line that text output prints first).
    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    @Test(arguments: engines) func previewOfProdBeforeDevShowsChangesAndRecordsNothing(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        let before = try repo.cli.run("audit", "export")
        #expect(before.status == 0, "\(before.stderr)")
        let artifacts = Self.snapshot(repo.repository + "/.tollgate/artifacts")

        let text = try repo.cli.run("plan", "--preview", "--env", "prod")
        #expect(text.status == 0, "\(text.stderr)")
        // The same id `tollgate release` gave the same commit.
        #expect(text.stdout.hasPrefix("PREVIEW of release \(repo.release) (commit "), "\(text.stdout)")
        #expect(text.stdout.contains("for 'prod': never applied, nothing recorded"))
        let network = text.stdout.split(separator: "\n").first { $0.hasPrefix("prod/network  ") }.map(String.init) ?? ""
        #expect(network.hasSuffix(" to delete  (preview)") && !network.contains(" 0 to create"), "\(text.stdout)")
        #expect(text.stdout.contains("has not been applied successfully to 'stage' for stack 'network'"))
        #expect(text.stdout.contains("approval"), "\(text.stdout)")

        let json = try repo.cli.run("plan", "--preview", "--env", "prod", "--format", "json")
        #expect(json.status == 0, "\(json.stderr)")
        let object = try json.json()
        #expect(object["preview"] as? Bool == true)
        #expect(object["env"] as? String == "prod")
        #expect((object["release"] as? [String: Any])?["id"] as? String == repo.release)
        let stacks = object["stacks"] as? [[String: Any]] ?? []
        #expect(stacks.map { $0["stack"] as? String } == ["network", "app"])
        #expect(stacks.allSatisfy { $0["has_changes"] as? Bool == true && $0["id"] == nil })
        let rules = stacks.map { (($0["gates"] as? [String: Any])?["refusals"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String } }
        #expect(rules.allSatisfy { $0.contains("order") && $0.contains("approval") }, "\(rules)")

        let markdown = try repo.cli.run("plan", "--preview", "--env", "prod", "--stack", "network", "--format", "markdown")
        #expect(markdown.status == 0, "\(markdown.stderr)")
        #expect(markdown.stdout.hasPrefix("### tollgate preview (never applied): release `\(String(repo.release.prefix(19)))"), "\(markdown.stdout)")
        #expect(markdown.stdout.contains("**Preview only**"))
        #expect(markdown.stdout.contains("**Gates the real promotion will face**: "), "\(markdown.stdout)")
        #expect(markdown.stdout.contains("- to meet: release \(String(repo.release.prefix(19)))"), "\(markdown.stdout)")

        // No id an apply could take, and nothing on the record, in the store or in the backend.
        for output in [text.stdout, text.stderr, json.stdout, markdown.stdout] { #expect(Self.planIDs(output) == []) }
        let applied = try repo.cli.run("apply", "PLAN")
        #expect(applied.status == 1)
        #expect(applied.stderr.hasPrefix("tollgate: error: no plan 'PLAN'"), "\(applied.stderr)")
        let after = try repo.cli.run("audit", "export")
        #expect(after.stdout == before.stdout)
        #expect(Self.snapshot(repo.repository + "/.tollgate/artifacts") == artifacts)
        #expect(!FileManager.default.fileExists(atPath: repo.statePath("prod", "network")))
    }

    @Test func previewInAFreshCloneCreatesNoLedger() throws {
        let repo = try PromotionRepo(engine: Self.engines[0])
        defer { repo.remove() }
        let clone = repo.root + "/clone"
        try PromotionRepo.shell("git clone -q '\(repo.repository)' '\(clone)'")
        #expect(!FileManager.default.fileExists(atPath: clone + "/.tollgate/ledger.sqlite"))
        let result = try repo.cli.run("plan", "--preview", "--env", "stage", "--config", clone + "/tollgate.yaml", "--format", "json")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try result.json()["preview"] as? Bool == true)
        #expect((try result.json()["release"] as? [String: Any])?["id"] as? String == repo.release)
        #expect(!FileManager.default.fileExists(atPath: clone + "/.tollgate/ledger.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: clone + "/.tollgate/artifacts"))
        #expect(!FileManager.default.fileExists(atPath: clone + "/.tollgate/work"))
    }

    @Test func previewErrorsSayWhatToDo() throws {
        let repo = try PromotionRepo(engine: Self.engines[0])
        defer { repo.remove() }
        let before = try repo.cli.run("audit", "export")
        let env = try repo.cli.run("plan", "--preview", "--env", "prdo")
        #expect(env.status == 1)
        #expect(Self.lastLine(env.stderr) == "tollgate: error: unknown environment 'prdo'; did you mean 'prod'?", "\(env.stderr)")
        let stack = try repo.cli.run("plan", "--preview", "--env", "dev", "--stack", "ap")
        #expect(stack.status == 1)
        #expect(Self.lastLine(stack.stderr) == "tollgate: error: unknown stack 'ap'; did you mean 'app'?", "\(stack.stderr)")
        let commit = try repo.cli.run("plan", "--preview", "--commit", "no-such-rev", "--env", "dev")
        #expect(commit.status == 1)
        #expect(Self.lastLine(commit.stderr) == "tollgate: error: 'no-such-rev' is not a commit in this repository; pass a branch, tag or commit id", "\(commit.stderr)")
        let release = try repo.cli.run("plan", repo.release, "--preview", "--env", "dev")
        #expect(release.status == 64)
        #expect(release.stderr.contains("--preview plans a commit, not a stored release, so it takes no release id"), "\(release.stderr)")
        let breakGlass = try repo.cli.run("plan", "--preview", "--env", "prod", "--break-glass", "hotfix")
        #expect(breakGlass.status == 64)
        #expect(breakGlass.stderr.contains("--preview cannot be combined with --break-glass"), "\(breakGlass.stderr)")
        let markdown = try repo.cli.run("plan", repo.release, "--env", "dev", "--format", "markdown")
        #expect(markdown.status == 64)
        #expect(markdown.stderr.contains("--format markdown is for --preview"))
        #expect(try repo.cli.run("audit", "export").stdout == before.stdout)
    }
}
