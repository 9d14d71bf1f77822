import Foundation
import TestSupport
import Testing

/// The `policy` check on real plans, and `tollgate policy test` / `policy check`.
@Suite struct PolicyTests {
    /// A prod-only rule that reads tollgate's context: every created resource needs an owner.
    static let ownerPolicy = """
        package main

        import rego.v1

        deny contains msg if {
          data.tollgate.env == "prod"
          some r in input.resource_changes
          "create" in r.change.actions
          not r.change.after.triggers.owner
          msg := sprintf("%s in %s/%s has no triggers.owner", [r.address, data.tollgate.env, data.tollgate.stack])
        }

        warn contains msg if {
          some r in input.resource_changes
          r.type == "null_resource"
          "create" in r.change.actions
          msg := sprintf("%s: prefer terraform_data to null_resource", [r.address])
        }

        """

    @Test func aPolicyDenyBlocksAProdApply() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try Data(Self.ownerPolicy.utf8).write(to: URL(fileURLWithPath: repo.repository + "/policies/owner.rego"))
        try repo.cli.git("add", "-A")
        try repo.cli.git("commit", "-q", "-m", "owner policy")
        let release = try repo.cli.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for env in ["dev", "stage"] {
            let promoted = try repo.cli.run("promote", release, "--to", env)
            #expect(promoted.status == 0, "\(promoted.stderr)")
        }
        let planned = try repo.cli.run("plan", release, "--env", "prod", "--stack", "app", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plan = try #require(try planned.jsonArray().first)
        let checks = plan["checks"] as? [[String: Any]] ?? []
        let policy = try #require(checks.first { $0["name"] as? String == "policy" })
        #expect(policy["status"] as? String == "fail")
        let details = policy["details"] as? [String] ?? []
        #expect(details.contains("deny main.deny: null_resource.server[0] in prod/app has no triggers.owner"))
        #expect(details.contains("warn main.warn: null_resource.server[0]: prefer terraform_data to null_resource"))
        #expect(details.last?.hasPrefix("engine: opa (library ") == true)

        let id = try #require(plan["id"] as? String)
        #expect(try repo.cli.run("approve", id, "--key", repo.key("approver")).status == 0)
        let apply = try repo.cli.run("apply", id)
        #expect(apply.status == 3)
        #expect(apply.stderr.contains("check 'policy' failed on plan '\(id)'"))
        let shown = try repo.cli.run("show", id)
        #expect(shown.stdout.contains("missing: check 'policy' failed"))
    }

    @Test func withoutAnEngineThePolicyCheckFailsAndSaysHowToInstallOne() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        // Tools with the provider mirror but no policy libraries.
        let empty = repo.root + "/no-policy-tools"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: empty + "/mirror", withDestinationPath: TestPaths.tools + "/mirror")
        var bare = repo.cli
        bare.environment["TOLLGATE_TOOLS"] = empty
        bare.environment["TOLLGATE_ENGINE"] = TestEngines.all[0]
        let planned = try bare.run("plan", repo.release, "--env", "prod", "--stack", "network", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let checks = try #require(try planned.jsonArray().first)["checks"] as? [[String: Any]] ?? []
        let policy = try #require(checks.first { $0["name"] as? String == "policy" })
        #expect(policy["status"] as? String == "fail")
        #expect((policy["details"] as? [String])?.first?.contains("run scripts/setup-engine.sh") == true)
    }

    @Test func policyTestRunsTheTestRules() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let passing = try repo.cli.run("policy", "test")
        #expect(passing.status == 0, "\(passing.stderr)")
        #expect(passing.stdout.contains("PASS data.main.test_protected_delete_denied"))
        #expect(passing.stdout.contains("2 tests, 2 passed, 0 failed"))

        try Data("""
            package main

            import rego.v1

            test_wrong if {
              count(deny) == 3 with input as {"resource_changes": []}
            }

            """.utf8).write(to: URL(fileURLWithPath: repo.repository + "/policies/wrong_test.rego"))
        let failing = try repo.cli.run("policy", "test", "--format", "json")
        #expect(failing.status == 1)
        let report = try failing.json()
        #expect(report["passed"] as? Int == 2)
        #expect(report["failed"] as? Int == 1)
        let results = report["results"] as? [[String: Any]] ?? []
        #expect(results.contains { $0["name"] as? String == "data.main.test_wrong" && $0["outcome"] as? String == "fail" })

        // rego-cpp 1.5.2 cannot evaluate `with`: each test is an error, reported, never a crash.
        let regoCpp = try repo.cli.run("policy", "test", "--engine", "rego-cpp")
        #expect(regoCpp.status == 1)
        #expect(regoCpp.stdout.contains("ERROR data.main.test_protected_delete_denied: rego-cpp"))
    }

    @Test(arguments: ["opa", "rego-cpp"])
    func policyCheckJudgesAPlanFile(engine: String) throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let plan = TestPaths.fixtures + "/plans/terraform-1.11.4/delete.json"
        try Data("""
            package main

            import rego.v1

            deny contains msg if {
              some r in input.resource_changes
              "delete" in r.change.actions
              data.tollgate.env == "prod"
              msg := sprintf("%s is deleted", [r.address])
            }

            """.utf8).write(to: URL(fileURLWithPath: repo.repository + "/policies/deletes.rego"))
        let denied = try repo.cli.run("policy", "check", plan, "--env", "prod", "--engine", engine)
        #expect(denied.status == 3)
        #expect(denied.stdout.contains("DENY main.deny: null_resource.removed is deleted"))
        #expect(denied.stdout.contains("3 denied, 0 warnings"))
        let allowed = try repo.cli.run("policy", "check", plan, "--env", "dev", "--engine", engine)
        #expect(allowed.status == 0)
        let broken = try repo.cli.run("policy", "check", repo.repository + "/tollgate.yaml", "--engine", engine)
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("is not JSON"))
    }
}
