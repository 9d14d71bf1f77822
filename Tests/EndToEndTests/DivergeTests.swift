import Foundation
import TestSupport
import Testing

/// `tollgate diverge` on real terraform: silent on a clean, freshly promoted repository; on one
/// with out-of-band drift in prod, a key only prod's config sets, and a release prod has not got,
/// it finds all three and exits 2.
@Suite struct DivergeTests {
    /// Promotes the repository's release through dev, stage and prod (plans in prod approved).
    static func promoteEverywhere(_ repo: PromotionRepo) throws {
        try repo.promote("dev")
        try repo.promote("stage")
        for stack in ["network", "app"] {
            let plan = try repo.plan("prod", stack)
            let approved = try repo.cli.run("approve", plan, "--key", repo.key("approver"))
            guard approved.status == 0 else { throw TestSupportError("approve: \(approved.stderr)") }
            let applied = try repo.cli.run("apply", plan)
            guard applied.status == 0 else { throw TestSupportError("apply \(stack): \(applied.stderr)") }
        }
    }

    @Test func aCleanFreshlyPromotedRepositoryReportsNothing() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try Self.promoteEverywhere(repo)

        // Before any drift run, each applied env/stack is reported as never checked, which crosses nothing.
        let unchecked = try repo.cli.run("diverge")
        #expect(unchecked.status == 0, "\(unchecked.stdout)\(unchecked.stderr)")
        #expect(unchecked.stdout.contains("drift: nothing found"))
        #expect(unchecked.stdout.contains("note: prod/app: never checked for drift; run 'tollgate drift --env prod'"))

        for env in ["dev", "stage", "prod"] {
            let drift = try repo.cli.run("drift", "--env", env)
            #expect(drift.status == 0, "\(drift.stderr)")
        }
        let result = try repo.cli.run("diverge", "--format", "json")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let json = try result.json()
        let report = try #require(json["report"] as? [String: Any])
        #expect((json["crossed"] as? [String]) == [])
        #expect((report["skew"] as? [Any])?.isEmpty == true)
        #expect((report["lag"] as? [Any])?.isEmpty == true)
        #expect((report["code"] as? [Any])?.isEmpty == true)
        let drift = report["drift"] as? [[String: Any]] ?? []
        #expect(drift.count == 6)
        #expect(drift.allSatisfy { $0["status"] as? String == "clean" })

        let text = try repo.cli.run("diverge")
        #expect(text.status == 0)
        for kind in ["drift", "skew", "lag", "code"] { #expect(text.stdout.contains("\(kind): nothing found")) }
    }

    @Test func driftSkewAndLagAreFoundAndExitTwo() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try Self.promoteEverywhere(repo)

        // A second release adds a variable only prod's config sets; it reaches dev and stage, not prod.
        let variables = repo.repository + "/stacks/app/variables.tf"
        let declared = try String(contentsOfFile: variables, encoding: .utf8)
            + "\nvariable \"debug\" {\n  type    = bool\n  default = false\n}\n"
        try Data(declared.utf8).write(to: URL(fileURLWithPath: variables))
        let prodConfig = repo.repository + "/config/prod/app.tfvars"
        let config = try String(contentsOfFile: prodConfig, encoding: .utf8) + "debug          = true\n"
        try Data(config.utf8).write(to: URL(fileURLWithPath: prodConfig))
        try repo.cli.git("commit", "-q", "-am", "debug switch")
        let released = try repo.cli.run("release", "--pr", "43")
        #expect(released.status == 0, "\(released.stderr)")
        let second = released.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for env in ["dev", "stage"] {
            let promoted = try repo.cli.run("promote", second, "--to", env)
            #expect(promoted.status == 0, "\(promoted.stderr)")
        }

        // Drift in prod, made out of band and recorded by a drift run.
        try DriftTests.deleteOutOfBand(try DriftTests.stateFile(repo, env: "prod", stack: "app"), address: "server")
        #expect(try repo.cli.run("drift", "--env", "prod", "--stack", "app").status == 2)

        let result = try repo.cli.run("diverge", "--format", "json")
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        let json = try result.json()
        #expect((json["crossed"] as? [String]) == ["drift", "skew"])
        let report = try #require(json["report"] as? [String: Any])
        let drift = report["drift"] as? [[String: Any]] ?? []
        let open = drift.filter { $0["status"] as? String == "open" }
        #expect(open.count == 1)
        #expect(open.first?["env"] as? String == "prod")
        #expect(open.first?["stack"] as? String == "app")
        #expect((open.first?["addresses"] as? [String]) == ["null_resource.server[0]"])
        let skew = report["skew"] as? [[String: Any]] ?? []
        #expect(skew.count == 1)
        #expect(skew.first?["key"] as? String == "debug")
        #expect(skew.first?["kind"] as? String == "only-in-last")
        let lag = report["lag"] as? [[String: Any]] ?? []
        #expect(lag.count == 2)
        #expect(lag.allSatisfy { $0["env"] as? String == "prod" && $0["previous"] as? String == "stage" && $0["kind"] as? String == "behind" })
        #expect(lag.allSatisfy { ($0["releases"] as? [String]) == [second] })

        let text = try repo.cli.run("diverge")
        #expect(text.status == 2)
        #expect(text.stdout.contains("drift: 1 found (threshold crossed)"))
        #expect(text.stdout.contains("'debug' is set only in 'prod' (config/prod/app.tfvars)"))
        #expect(text.stdout.contains("'prod' is 1 release behind 'stage' for stack 'app'"))
        let markdown = try repo.cli.run("diverge", "--format", "markdown")
        #expect(markdown.status == 2)
        #expect(markdown.stdout.contains("Thresholds crossed: **drift**, **skew**."))

        // --fail-on picks the kinds; the lag of one release crosses only a lower limit, or with age.
        #expect(try repo.cli.run("diverge", "--fail-on", "lag,code").status == 0)
        #expect(try repo.cli.run("diverge", "--fail-on", "lag", "--max-lag-releases", "0").status == 2)
        repo.cli.pinClock(ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 86_400)))
        #expect(try repo.cli.run("diverge", "--fail-on", "lag").status == 2)
        #expect(try repo.cli.run("diverge", "--fail-on", "lag", "--max-lag-days", "45").status == 0)

        let unknown = try repo.cli.run("diverge", "--fail-on", "drift,skw")
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown kind 'skw' in '--fail-on'"))
    }

    /// The lag part of `tollgate diverge --format json`, as a mirror of what it promises.
    struct LagJSON: Decodable, Equatable {
        struct Advice: Decodable, Equatable {
            var action: String
            var release: String?
            var environments: [String]
            var contains: [String]
            var commits: [String]
        }

        var kind: String
        var env: String
        var previous: String
        var stack: String
        var releases: [String]
        var advice: Advice
    }

    struct DivergeJSON: Decodable {
        struct Report: Decodable {
            var lag: [LagJSON]
        }

        var report: Report
        var crossed: [String]
        var ranking: RankingJSON
    }

    /// The lag section of the text output: from its heading to the next kind's.
    static func lagSection(_ text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("lag: ") }) else { return [] }
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("code: ") } ?? lines.endIndex
        return Array(lines[start..<end])
    }

    static func diverge(_ repo: PromotionRepo, _ arguments: String...) throws -> (status: Int32, json: DivergeJSON) {
        let result = try repo.cli.run(["diverge", "--format", "json"] + arguments)
        return (result.status, try result.decoded(DivergeJSON.self))
    }

    @Test func aBreakGlassStopsCountingAsLagOnceALaterReleaseIsPromotedNormally() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try Self.promoteEverywhere(repo)

        // An emergency fix on top of the first release goes straight to prod by break-glass.
        try repo.edit("stacks/network/main.tf", commit: "hotfix") { $0 + "\n# hotfix: the certificate is rotated by hand\n" }
        let hotfix = try repo.cutRelease()
        let planned = try repo.cli.run("plan", hotfix, "--env", "prod", "--stack", "network", "--break-glass", "outage: cert expired", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plan = try #require(try planned.jsonArray().first?["id"] as? String)
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
        let applied = try repo.cli.run("apply", plan)
        #expect(applied.status == 0, "\(applied.stderr)")

        // Dev and stage run the first release, which the hotfix includes: promote the hotfix through them.
        let skipped = try Self.diverge(repo, "--fail-on", "lag")
        #expect(skipped.status == 2)
        #expect(skipped.json.crossed == ["lag"])
        #expect(skipped.json.report.lag == [
            LagJSON(kind: "never-passed-previous", env: "prod", previous: "stage", stack: "network", releases: [hotfix],
                    advice: .init(action: "promote", release: hotfix, environments: ["dev", "stage"], contains: [], commits: [])),
        ])
        #expect(skipped.json.ranking.ranked.map(\.severity) == ["skipped-environment"])

        // A later release, on top of the hotfix, reaches stage: prod should get that one, never the hotfix through stage.
        try repo.edit("stacks/app/main.tf", commit: "the next change") { $0 + "\n# the next change\n" }
        let next = try repo.cutRelease()
        for env in ["dev", "stage"] {
            let promoted = try repo.cli.run("promote", next, "--to", env)
            #expect(promoted.status == 0, "\(promoted.stderr)")
        }
        let staged = try Self.diverge(repo, "--fail-on", "lag")
        #expect(staged.status == 2)
        let toProd = LagJSON.Advice(action: "promote", release: next, environments: ["prod"], contains: [], commits: [])
        #expect(staged.json.report.lag == [
            LagJSON(kind: "never-passed-previous", env: "prod", previous: "stage", stack: "network", releases: [hotfix], advice: toProd),
            LagJSON(kind: "behind", env: "prod", previous: "stage", stack: "network", releases: [next], advice: toProd),
            LagJSON(kind: "behind", env: "prod", previous: "stage", stack: "app", releases: [next], advice: toProd),
        ], "\(staged.json.report.lag)")
        let text = try repo.cli.run("diverge", "--fail-on", "lag")
        #expect(text.status == 2)
        let short = { (id: String) in String(id.prefix(19)) + "…" }
        #expect(Self.lagSection(text.stdout) == [
            "lag: 3 found (threshold crossed)",
            "  release \(short(hotfix)) was applied to 'prod/network' without a successful apply to 'stage' first (see 'tollgate audit trace --env prod'); "
                + "release \(short(next)) includes it: tollgate promote \(next) --to prod",
            "  'prod' is 1 release behind 'stage' for stack 'network', the oldest waiting 0.0 days (\(short(next))); promote the newest: tollgate promote \(next) --to prod",
            "  'prod' is 1 release behind 'stage' for stack 'app', the oldest waiting 0.0 days (\(short(next))); promote the newest: tollgate promote \(next) --to prod",
            "  prevent it: promote each release on to the next environment soon after it lands ('tollgate promote RELEASE --to ENV')",
        ], "\(text.stdout)")

        // Prod catches up the normal way: nothing lags any more, and nothing is advised.
        for stack in ["network", "app"] {
            let id = try repo.plan("prod", stack, release: next)
            #expect(try repo.cli.run("approve", id, "--key", repo.key("approver")).status == 0)
            let done = try repo.cli.run("apply", id)
            #expect(done.status == 0, "\(done.stderr)")
        }
        let caughtUp = try Self.diverge(repo, "--fail-on", "lag")
        #expect(caughtUp.status == 0)
        #expect(caughtUp.json.crossed == [])
        #expect(caughtUp.json.report.lag == [])
        #expect(caughtUp.json.ranking == RankingJSON(ranked: [], lagWithinLimits: 0))
        let quiet = try repo.cli.run("diverge", "--fail-on", "lag")
        #expect(quiet.status == 0)
        #expect(Self.lagSection(quiet.stdout) == ["lag: nothing found"])
        #expect(!quiet.stdout.contains("tollgate promote"))
    }

    @Test func aHotfixOffTheMainLineIsNeverAdvisedIntoAStageThatRunsANewerRelease() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try Self.promoteEverywhere(repo)
        let first = try PromotionRepo.shell("git rev-parse HEAD", in: repo.repository).trimmingCharacters(in: .whitespacesAndNewlines)
        // Main moves on and reaches stage.
        try repo.edit("stacks/network/main.tf", commit: "the next change") { $0 + "\n# the next change\n" }
        let next = try repo.cutRelease()
        for env in ["dev", "stage"] {
            let promoted = try repo.cli.run("promote", next, "--to", env)
            #expect(promoted.status == 0, "\(promoted.stderr)")
        }
        let nextCommit = try PromotionRepo.shell("git rev-parse HEAD", in: repo.repository).trimmingCharacters(in: .whitespacesAndNewlines)
        // The hotfix is cut on a branch from what prod runs, and goes to prod by break-glass.
        try repo.cli.git("checkout", "-q", "-b", "hotfix", first)
        try repo.edit("stacks/network/main.tf", commit: "hotfix") { $0 + "\n# hotfix: the certificate is rotated by hand\n" }
        let hotfixCommit = try PromotionRepo.shell("git rev-parse HEAD", in: repo.repository).trimmingCharacters(in: .whitespacesAndNewlines)
        let hotfix = try repo.cutRelease()
        let planned = try repo.cli.run("plan", hotfix, "--env", "prod", "--stack", "network", "--break-glass", "outage", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plan = try #require(try planned.jsonArray().first?["id"] as? String)
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
        #expect(try repo.cli.run("apply", plan).status == 0)
        try repo.cli.git("checkout", "-q", "main")

        // Neither release contains the other: the advice is a release containing both, never the hotfix through stage.
        let result = try Self.diverge(repo, "--fail-on", "lag")
        #expect(result.status == 2)
        #expect(result.json.report.lag == [
            LagJSON(kind: "never-passed-previous", env: "prod", previous: "stage", stack: "network", releases: [hotfix],
                    advice: .init(action: "cut-release", release: nil, environments: ["dev", "stage", "prod"], contains: [hotfix, next],
                                  commits: [hotfixCommit, nextCommit])),
            // 'promote' applies every stack, so promoting the next release for app would take the hotfix out of network.
            LagJSON(kind: "behind", env: "prod", previous: "stage", stack: "app", releases: [next],
                    advice: .init(action: "cut-release", release: nil, environments: ["dev", "stage", "prod"], contains: [hotfix, next],
                                  commits: [hotfixCommit, nextCommit])),
        ], "\(result.json.report.lag)")
        let text = try repo.cli.run("diverge", "--fail-on", "lag")
        let (shortHotfix, shortNext) = (String(hotfix.prefix(19)), String(next.prefix(19)))
        let (hotfixSHA, nextSHA) = (String(hotfixCommit.prefix(12)), String(nextCommit.prefix(12)))
        let expected: String = "  release \(shortHotfix)… was applied to 'prod/network' without a successful apply to 'stage' first "
            + "(see 'tollgate audit trace --env prod'); no release on record includes it and can be promoted without a downgrade, and it lacks "
            + "\(shortNext)…, which run up to 'prod': cut a release from a commit that contains commits \(hotfixSHA) and \(nextSHA) "
            + "(merge one into the other) with 'tollgate release --commit SHA', and promote it through dev, stage and prod"
        let line = Self.lagSection(text.stdout).dropFirst().first
        #expect(line == expected, "\(text.stdout)")
        #expect(!text.stdout.contains("tollgate promote sha256:"), "\(text.stdout)")
    }
}

/// The ranking in `tollgate diverge --format json` and `tollgate report --format json`.
struct RankingJSON: Decodable, Equatable {
    struct Ranked: Decodable, Equatable {
        var rank: Int
        var severity: String
        var kind: String
        var env: String?
        var stack: String?
        var message: String
    }

    var ranked: [Ranked]
    var lagWithinLimits: Int
}
