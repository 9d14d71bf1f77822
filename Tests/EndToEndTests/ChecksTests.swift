import Foundation
import TestSupport
import Testing

/// The environment's checks run on every plan, are stored with it, and a failed one blocks apply.
@Suite struct ChecksTests {
    @Test func failedChecksBlockTheApply() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        // dev now also requires lint; the app stack gains environment logic and an unformatted line.
        let yaml = repo.repository + "/tollgate.yaml"
        let text = try String(contentsOfFile: yaml, encoding: .utf8)
            .replacingOccurrences(of: "    gate: auto\n    checks: [fmt, validate]", with: "    gate: auto\n    checks: [fmt, validate, lint]")
        try Data(text.utf8).write(to: URL(fileURLWithPath: yaml))
        let main = repo.repository + "/stacks/app/main.tf"
        try Data((try String(contentsOfFile: main, encoding: .utf8) + """

            variable "env" {
              type    = string
              default = "x"
            }

            resource "null_resource" "extra" {
              count = var.env == "prod" ? 1 : 0
            }
            resource  "null_resource" "crooked" {}

            """).utf8).write(to: URL(fileURLWithPath: main))
        try repo.cli.git("commit", "-q", "-am", "checks")
        let release = try repo.cli.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        repo.cli.environment["TOLLGATE_ACTOR"] = "ci@example.com"
        let planned = try repo.cli.run("plan", release, "--env", "dev", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plans = try planned.jsonArray()
        let network = try #require(plans.first { $0["stack"] as? String == "network" })
        let app = try #require(plans.first { $0["stack"] as? String == "app" })
        func statuses(_ plan: [String: Any]) -> [String: String] {
            Dictionary(uniqueKeysWithValues: (plan["checks"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["status"] as? String ?? "") })
        }
        #expect(statuses(network) == ["fmt": "pass", "validate": "pass", "lint": "warn"])
        #expect(statuses(app) == ["fmt": "fail", "validate": "pass", "lint": "fail"])
        let appChecks = app["checks"] as? [[String: Any]] ?? []
        let lintDetails = appChecks.first { $0["name"] as? String == "lint" }?["details"] as? [String] ?? []
        #expect(lintDetails.contains { $0.contains("[env-conditional]") })
        #expect((appChecks.first { $0["name"] as? String == "fmt" }?["details"] as? [String])?.first == "stacks/app/main.tf is not formatted (run terraform fmt)")

        let appID = try #require(app["id"] as? String)
        let apply = try repo.cli.run("apply", appID)
        #expect(apply.status == 3)
        #expect(apply.stderr.contains("check 'fmt' failed on plan '\(appID)'"))
        #expect(apply.stderr.contains("check 'lint' failed on plan '\(appID)'"))
        // The network stack's checks passed (a lint warning does not block), so it applies.
        #expect(try repo.cli.run("apply", try #require(network["id"] as? String)).status == 0)
        let shown = try repo.cli.run("show", appID)
        #expect(shown.stdout.contains("missing: check 'fmt' failed"))
    }
}

@Suite struct AcknowledgeDestroyTests {
    @Test func anUnacknowledgedStatefulReplaceIsRefusedThenAccepted() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        // The servers count as stateful here, and prod already runs them.
        try repo.edit("tollgate.yaml", commit: "servers are stateful") { $0 + "\nstateful_types: [null_resource]\n" }
        try repo.releaseToProd(try repo.cutRelease())

        // A new image tag for prod replaces the server.
        try repo.edit("config/prod/app.tfvars", commit: "v2 in prod") { $0.replacingOccurrences(of: "image_tag      = \"v1\"", with: "image_tag      = \"v2\"") }
        let release = try repo.cutRelease()
        let replacing = try #require(try repo.releaseToProd(release, apply: ["network"])["app"])
        #expect(try repo.cli.run("show", replacing).stdout.contains("replace  null_resource.server[0]"))
        // promote stops at the gate and prints the approve command with every address the gate will ask for.
        let paused = try repo.cli.run("promote", release, "--to", "prod", "--format", "json")
        #expect(paused.status == 3)
        #expect(try paused.jsonArray().last?["commands"] as? [String] == [
            "tollgate approve \(replacing) --key KEY --acknowledge-destroy 'null_resource.server[0]' --acknowledge-destroy 'null_resource.server[1]' --acknowledge-destroy 'null_resource.server[2]'  # as approver@example.com",
            "tollgate promote \(release) --to prod  # again, once approved",
        ])
        #expect(try repo.cli.run("approve", replacing, "--key", repo.key("approver")).status == 0)
        let refused = try repo.cli.run("apply", replacing)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("destroys stateful null_resource.server[0]"))
        #expect(refused.stderr.contains("--acknowledge-destroy 'null_resource.server[0]'"))
        // prod runs three servers: acknowledging one leaves the other two named.
        #expect(try repo.cli.run("approve", replacing, "--key", repo.key("approver"), "--acknowledge-destroy", "null_resource.server[0]").status == 0)
        let partly = try repo.cli.run("apply", replacing)
        #expect(partly.status == 3)
        #expect(partly.stderr.contains("destroys stateful null_resource.server[1], null_resource.server[2]"))
        let acknowledged = try repo.cli.run("approve", replacing, "--key", repo.key("approver"),
                                            "--acknowledge-destroy", "null_resource.server[1]", "--acknowledge-destroy", "null_resource.server[2]")
        #expect(acknowledged.status == 0, "\(acknowledged.stderr)")
        let applied = try repo.cli.run("apply", replacing)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    }

    @Test func acknowledgingWhatThePlanDoesNotDestroyIsRefused() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        let plan = try repo.plan("prod", "network")
        let result = try repo.cli.run("approve", plan, "--key", repo.key("approver"), "--acknowledge-destroy", "aws_db_instance.main")
        #expect(result.status == 3)
        #expect(result.stderr.contains("plan '\(plan)' does not delete or replace 'aws_db_instance.main'"))
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
    }
}
