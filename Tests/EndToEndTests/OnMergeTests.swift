import Foundation
import TestSupport
import Testing

/// The on-merge gate on the built binary, real git and a real engine, in the checkouts CI makes:
/// a shallow clone on a detached HEAD with no local main branch, and a release whose branch was
/// squash-merged, so its commit is not on main but the same content is.
@Suite struct OnMergeTests {
    /// The on-merge proof as `audit trace` and `history` print it.
    struct Proof: Decodable, Equatable {
        var kind: String
        var ref: String
        var commit: String
    }

    struct Traced: Decodable {
        var env: String
        var stack: String
        var outcome: String
        var mergedBy: Proof?
    }

    struct History: Decodable {
        struct Entry: Decodable {
            var stack: String
            var mergedBy: Proof?
        }

        var entries: [Entry]
    }

    static func git(_ arguments: String, in directory: String) throws -> String {
        try PromotionRepo.shell("git -c user.name='Test Author' -c user.email=author@example.com " + arguments, in: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func traces(_ cli: CLI, env: String) throws -> [Traced] {
        let result = try cli.run("audit", "trace", "--env", env, "--format", "json")
        guard result.status == 0 else { throw TestSupportError("audit trace: \(result.stderr)") }
        return try result.decodedList(Traced.self)
    }

    /// The last line of stderr: where a refusal is printed, after any notices.
    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    /// A depth-1 clone of the repository's main on a detached HEAD with no local main branch, as CI
    /// checks out, sharing the repository's ledger and artifacts.
    static func ciClone(_ repo: PromotionRepo, name: String) throws -> CLI {
        let clone = repo.root + "/" + name
        _ = try git("clone -q --depth 1 --branch main file://\(repo.repository) \(clone)", in: repo.root)
        _ = try git("checkout -q --detach", in: clone)
        _ = try git("branch -q -D main", in: clone)
        #expect(try git("rev-parse --is-shallow-repository", in: clone) == "true")
        var cli = CLI(directory: clone, engine: TestEngines.all[0], cache: repo.root + "/cache")
        cli.environment = repo.cli.environment
        cli.environment["TOLLGATE_HOME"] = repo.repository + "/.tollgate"
        return cli
    }

    @Test func aShallowDetachedCloneWithoutALocalMainPromotesToStage() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        let releaseCommit = try Self.git("rev-parse HEAD", in: repo.repository)

        // Without any ref for main, the refusal names every ref tried and what to fetch.
        let blind = try Self.ciClone(repo, name: "blind")
        _ = try Self.git("update-ref -d refs/remotes/origin/main", in: blind.directory)
        let refused = try blind.run("promote", repo.release, "--to", "stage")
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr == "tollgate: refused: environment 'stage' only takes releases merged to 'main', and this checkout has no ref for it: tried 'refs/heads/main', 'refs/remotes/origin/main'; fetch it (git fetch origin main) and run this again\n")

        // main moves on with other content, so the one commit of a depth-1 clone neither is the
        // release commit nor seals to the release: the clone is deepened, with a notice.
        try repo.edit("config/dev/app.tfvars", commit: "later work on main") { $0.replacingOccurrences(of: "\"v1\"", with: "\"v3\"") }
        let cli = try Self.ciClone(repo, name: "clone")
        let promoted = try cli.run("promote", repo.release, "--to", "stage")
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        let release = String(repo.release.prefix(19)) + "…"
        #expect(promoted.stderr == "tollgate: notice: this clone is shallow and its 1 commit of 'main' do not show release \(release); fetching 200 more (git fetch --deepen=200 origin main)\n")
        let stage = try Self.traces(cli, env: "stage")
        #expect(stage.map(\.stack) == ["network", "app"])
        #expect(stage.allSatisfy { $0.outcome == "success" && $0.mergedBy == Proof(kind: "ancestor", ref: "refs/remotes/origin/main", commit: releaseCommit) })
    }

    @Test func aSquashMergedReleasePassesAndTheSquashCommitIsOnTheRecord() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.cli.git("checkout", "-q", "-b", "feature")
        try repo.edit("config/dev/app.tfvars", commit: "feature work") { $0.replacingOccurrences(of: "\"v1\"", with: "\"v2\"") }
        let feature = try repo.cutRelease()
        let featureCommit = try Self.git("rev-parse HEAD", in: repo.repository)
        #expect(try repo.cli.run("promote", feature, "--to", "dev").status == 0)

        // Before the merge, the gate refuses without telling the user to do what they just did.
        let early = try repo.cli.run("promote", feature, "--to", "stage")
        #expect(early.status == 3)
        #expect(Self.lastLine(early.stderr) == "tollgate: refused: environment 'stage' only takes releases merged to 'main': commit \(featureCommit.prefix(12)) is not in the history of 'refs/heads/main', and no commit among the 1 commit of 'main' (first parent) seals to release \(feature.prefix(19))…; cut the release from 'main' after the merge (tollgate release --commit main) and promote that one")

        try repo.cli.git("checkout", "-q", "main")
        try repo.cli.git("merge", "-q", "--squash", "feature")
        try repo.cli.git("commit", "-q", "-m", "feature work (#43)")
        let squash = try Self.git("rev-parse HEAD", in: repo.repository)
        #expect(squash != featureCommit)
        #expect(try repo.cutRelease() == feature)
        try repo.cli.git("branch", "-q", "-D", "feature")

        // CI promotes from a clone of main: the feature commit is in neither its history nor its objects.
        let cli = try Self.ciClone(repo, name: "clone")
        let promoted = try cli.run("promote", feature, "--to", "stage")
        #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
        #expect(promoted.stderr == "tollgate: notice: this clone is shallow and it lacks commit \(featureCommit.prefix(12)), whose history names the authors; fetching 200 more (git fetch --deepen=200 origin main)\n")
        let proof = Proof(kind: "same-content", ref: "refs/remotes/origin/main", commit: squash)
        let stage = try Self.traces(cli, env: "stage")
        #expect(stage.map(\.stack) == ["network", "app"])
        #expect(stage.allSatisfy { $0.mergedBy == proof })
        let history = try cli.run("history", "--env", "stage", "--format", "json")
        #expect(try history.decoded(History.self).entries.map(\.mergedBy) == [proof, proof])
        // The feature commit is not in the clone, so the tags go on the squash commit, which holds the same content.
        #expect(try Self.git("rev-parse 'tollgate/stage/app/1^{commit}'", in: cli.directory) == squash)
                let text = try cli.run("audit", "trace", "--env", "stage")
        #expect(text.stdout.contains("  on main: commit \(squash.prefix(12)) of refs/remotes/origin/main seals to the same release (squash or rebase merge)\n"), "\(text.stdout)")
    }
}
