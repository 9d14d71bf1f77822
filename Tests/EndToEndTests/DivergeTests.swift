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
}
