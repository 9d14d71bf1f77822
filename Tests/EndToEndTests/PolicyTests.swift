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

    /// Commits the working tree, releases it through dev and stage, and plans prod/app: the plan
    /// and its policy check.
    static func prodPlan(_ repo: PromotionRepo, message: String) throws -> (plan: [String: Any], policy: [String: Any]) {
        try repo.cli.git("add", "-A")
        try repo.cli.git("commit", "-q", "-m", message)
        let release = try repo.cli.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for env in ["dev", "stage"] {
            let promoted = try repo.cli.run("promote", release, "--to", env)
            #expect(promoted.status == 0, "\(promoted.stderr)")
        }
        let planned = try repo.cli.run("plan", release, "--env", "prod", "--stack", "app", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plan = try #require(try planned.jsonArray().first)
        let checks = plan["checks"] as? [[String: Any]] ?? []
        return (plan, try #require(checks.first { $0["name"] as? String == "policy" }))
    }

    @Test func aPolicyDenyBlocksAProdApply() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try Data(Self.ownerPolicy.utf8).write(to: URL(fileURLWithPath: repo.repository + "/policies/owner.rego"))
        let (plan, policy) = try Self.prodPlan(repo, message: "owner policy")
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

    /// A deny message that quotes a value the engine marks sensitive keeps the message, not the value.
    @Test func aDenyMessageQuotingASensitiveValueIsMasked() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let value = "quoted-\(UUID().uuidString.prefix(8))"
        try repo.edit("stacks/app/main.tf", commit: "a sensitive default") { $0 + """

            variable "db_password" {
              type      = string
              sensitive = true
              default   = "\(value)"
            }

            resource "null_resource" "db" {
              triggers = {
                password = var.db_password
              }
            }

            """ }
        try Data("""
            package main

            import rego.v1

            deny contains msg if {
              some r in input.resource_changes
              r.address == "null_resource.db"
              msg := sprintf("%s sets password %s", [r.address, r.change.after.triggers.password])
            }

            """.utf8).write(to: URL(fileURLWithPath: repo.repository + "/policies/quote.rego"))
        let (plan, policy) = try Self.prodPlan(repo, message: "a policy that quotes it")
        #expect(policy["status"] as? String == "fail")
        let details = policy["details"] as? [String] ?? []
        #expect(details.contains("deny main.deny: null_resource.db sets password (redacted)"), "\(details)")
        let id = try #require(plan["id"] as? String)
        for format in ["text", "json", "markdown"] {
            let shown = try repo.cli.run("show", id, "--format", format).stdout
            #expect(!shown.contains(value), "\(format)")
        }
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

    /// Policies written for .tf files find nothing in a plan: the check fails saying so, never passes.
    @Test func policiesForTfFilesFailAPlansCheckRatherThanPassIt() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        for name in try FileManager.default.contentsOfDirectory(atPath: repo.repository + "/policies") {
            try FileManager.default.removeItem(atPath: repo.repository + "/policies/" + name)
        }
        try FileManager.default.copyItem(atPath: TestPaths.fixtures + "/policies/conftest/policy/s3.rego", toPath: repo.repository + "/policies/s3.rego")
        let (_, policy) = try Self.prodPlan(repo, message: "policies for .tf files")
        #expect(policy["status"] as? String == "fail")
        let details = policy["details"] as? [String] ?? []
        #expect(details.count == 1)
        #expect(details.first?.hasPrefix("the policies read input.locals, input.resource, but the plan JSON has none of them (it has 'applyable', 'complete', 'configuration', ") == true, "\(details)")
        #expect(details.first?.hasSuffix(", …), so they would judge nothing: they are written for .tf files; give them that input, or point policies.path at the policies written for this one") == true, "\(details)")
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
        #expect(regoCpp.stdout.contains("ERROR data.main.test_protected_delete_denied (main_test.rego): rego-cpp"), "\(regoCpp.stdout)")
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
        #expect(denied.stdout.contains("3 denied, 0 warnings, 0 exceptions ("), "\(denied.stdout)")
        let allowed = try repo.cli.run("policy", "check", plan, "--env", "dev", "--engine", engine)
        #expect(allowed.status == 0)
        let broken = try repo.cli.run("policy", "check", repo.repository + "/tollgate.yaml", "--engine", engine)
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("is neither plan JSON (.json) nor HCL (.tf, .tfvars, .hcl)"), "\(broken.stderr)")
        // A state is not a plan: refused, never "0 denied".
        let state = try repo.cli.run("policy", "check", TestPaths.fixtures + "/plans/not-plans/state-show.json", "--engine", engine)
        #expect(state.status == 1)
        #expect(state.stderr.contains("is a state, not a plan"), "\(state.stderr)")
        // Plan policies on a .tf file would judge nothing: refused, saying what they read.
        let tf = try repo.cli.run("policy", "check", TestPaths.fixtures + "/policies/conftest/tf/website.tf", "--engine", engine)
        #expect(tf.status == 1)
        #expect(tf.stderr.contains("the policies read input.resource_changes, but '\(TestPaths.fixtures)/policies/conftest/tf/website.tf' has none of them (it has 'locals', 'resource'), so they would judge nothing: they are written for plan JSON"), "\(tf.stderr)")
    }

    /// conftest's HCL2 policies, their tests and their exception, as a repository keeps them.
    @Test func conftestPoliciesForTfFilesRunUnchanged() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let fixtures = TestPaths.fixtures + "/policies/conftest"
        try FileManager.default.removeItem(atPath: repo.repository + "/policies")
        try FileManager.default.createDirectory(atPath: repo.repository + "/conftest", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixtures + "/policy", toPath: repo.repository + "/conftest/policy")
        try FileManager.default.copyItem(atPath: fixtures + "/tf", toPath: repo.repository + "/conftest/tf")
        var config = try String(contentsOfFile: repo.repository + "/tollgate.yaml", encoding: .utf8)
        config = config.replacingOccurrences(of: "  path: policies\n", with: "  path: conftest/policy\n")
        try config.write(toFile: repo.repository + "/tollgate.yaml", atomically: true, encoding: .utf8)

        let checked = try repo.cli.run("policy", "check", "conftest/tf")
        #expect(checked.status == 3, "\(checked.stderr)")
        let lines = checked.stdout.split(separator: "\n").map(String.init)
        #expect(lines.dropLast() == [
            "DENY conftest/tf/main.tf: main.deny_unprotected: aws_s3_bucket.site has no lifecycle { prevent_destroy = true }",
            "WARN conftest/tf/main.tf: main.warn_owner: aws_s3_bucket.site has no owner tag",
            "EXCEPTION conftest/tf/website.tf: main.deny_public_acl: exempted by an exception rule (aws_s3_bucket_acl.website is public-read)",
        ])
        #expect(lines.last?.hasPrefix("3 files, 1 denied, 1 warning, 1 exception (opa (library ") == true, "\(lines)")

        let json = try repo.cli.run("policy", "check", "conftest/tf/website.tf", "--format", "json")
        #expect(json.status == 0, "\(json.stderr)")
        let report = try json.json()
        #expect(report["denied"] as? Int == 0)
        #expect(report["exceptions"] as? Int == 1)
        let inputs = report["inputs"] as? [[String: Any]] ?? []
        #expect(inputs.map { $0["file"] as? String } == ["conftest/tf/website.tf"])
        #expect(inputs.first?["parser"] as? String == "hcl2")

        let tested = try repo.cli.run("policy", "test")
        #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")
        #expect(tested.stdout.contains("PASS data.main.test_the_website_is_exempt (s3_test.rego)"))
        #expect(tested.stdout.contains("4 tests, 4 passed, 0 failed (opa (library "))

        // A test file that calls a built-in no engine has fails alone; the others still pass.
        try "package main\n\nimport rego.v1\n\ntest_yaml if {\n\tyaml_lint_strict(\"a: 1\")\n}\n".write(toFile: repo.repository + "/conftest/policy/yaml_test.rego", atomically: true, encoding: .utf8)
        let broken = try repo.cli.run("policy", "test", "--format", "json")
        #expect(broken.status == 1)
        let results = try broken.json()["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["outcome"] as? String } == ["pass", "pass", "pass", "pass", "error"])
        #expect((results.last?["message"] as? String)?.hasPrefix("yaml_test.rego does not compile: yaml_test.rego:6: rego_type_error: undefined function yaml_lint_strict") == true, "\(results.last ?? [:])")
    }
}
