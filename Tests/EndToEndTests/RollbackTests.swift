import Foundation
import TestSupport
import Testing

/// The rollback planner on real terraform: a stateless rollback applied through the gate, a
/// stateful one classified with its addresses, `--to`, and a target the environment never ran.
@Suite struct RollbackTests {
    @Test func aStatelessRollbackIsAppliedThroughTheGate() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let first = try repo.cutRelease()
        try repo.releaseToProd(first)
        try repo.edit("config/prod/app.tfvars", commit: "four servers in prod") { $0.replacingOccurrences(of: "instance_count = 3", with: "instance_count = 4") }
        let second = try repo.cutRelease()
        try repo.releaseToProd(second)

        let planned = try repo.cli.run("rollback", "--env", "prod", "--format", "json", "--playbook", repo.root + "/playbook.md")
        #expect(planned.status == 0, "\(planned.stderr)")
        let result = try planned.json()
        #expect(result["recommendation"] as? String == "revert")
        let stacks = result["stacks"] as? [[String: Any]] ?? []
        // Dependencies first, as promote goes: network before app.
        #expect(stacks.map { $0["stack"] as? String } == ["network", "app"])
        let app = try #require(stacks.last)
        #expect(app["target"] as? String == first)
        #expect(app["current"] as? String == second)
        let risks = app["risks"] as? [[String: Any]] ?? []
        #expect(risks.map { $0["kind"] as? String } == ["created-since-target"])
        #expect(risks.first?["subject"] as? String == "null_resource.server[3]")
        let playbook = try String(contentsOfFile: repo.root + "/playbook.md", encoding: .utf8)
        #expect(playbook.contains("**Recommendation: `revert`**"))
        #expect(playbook.contains("- delete `null_resource.server[3]`"))

        // The rollback plan is a normal plan: the prod gate wants an approval, then it applies.
        let plan = try #require((app["plan"] as? [String: Any])?["id"] as? String)
        let refused = try repo.cli.run("apply", plan)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("has 0 of 1 required approvals"))
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
        let applied = try repo.cli.run("apply", plan)
        #expect(applied.status == 0, "\(applied.stderr)")
        let status = try repo.cli.run("status", "--format", "json").stdout
        #expect(status.contains(first))
        // prod now runs the first release for app again: rolling back once more goes to the second.
        let again = try repo.cli.run("rollback", "--env", "prod", "--stack", "app", "--format", "json")
        #expect((try again.json()["stacks"] as? [[String: Any]])?.first?["target"] as? String == second)
    }

    @Test func aStatefulRollbackIsClassifiedAndToIsChecked() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.edit("tollgate.yaml", commit: "servers are stateful") { $0 + "\nstateful_types: [null_resource]\n" }
        let first = try repo.cutRelease()
        try repo.releaseToProd(first)
        // v2 replaces every prod server; the approver acknowledges it.
        try repo.edit("config/prod/app.tfvars", commit: "v2 in prod") { $0.replacingOccurrences(of: "image_tag      = \"v1\"", with: "image_tag      = \"v2\"") }
        let second = try repo.cutRelease()
        let plans = try repo.releaseToProd(second, apply: ["network"])
        let app = try #require(plans["app"])
        let addresses = (0..<3).map { "null_resource.server[\($0)]" }
        #expect(try repo.cli.run(["approve", app, "--key", repo.key("approver")] + addresses.flatMap { ["--acknowledge-destroy", $0] }).status == 0)
        #expect(try repo.cli.run("apply", app).status == 0)

        // A third release reaches dev only: prod never ran it, so it is no rollback target.
        try repo.edit("config/dev/app.tfvars", commit: "dev only") { $0.replacingOccurrences(of: "instance_count = 1", with: "instance_count = 2") }
        let third = try repo.cutRelease()
        #expect(try repo.cli.run("promote", third, "--to", "dev").status == 0)
        let never = try repo.cli.run("rollback", "--env", "prod", "--to", third)
        #expect(never.status == 3)
        #expect(never.stderr.contains("was never applied to 'prod/network'"))

        let planned = try repo.cli.run("rollback", "--env", "prod", "--stack", "app", "--to", first, "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let result = try planned.json()
        #expect(result["recommendation"] as? String == "revert-with-care")
        let risks = (result["stacks"] as? [[String: Any]])?.first?["risks"] as? [[String: Any]] ?? []
        #expect(risks.filter { $0["kind"] as? String == "data-loss" }.compactMap { $0["subject"] as? String } == addresses)
        let steps = result["steps"] as? [String] ?? []
        #expect(steps.first == "before applying, snapshot or back up null_resource.server[0] in app and check the backup restores")
        let text = try repo.cli.run("rollback", "--env", "prod", "--stack", "app", "--to", first)
        #expect(text.stdout.contains("recommendation: revert-with-care"))
        #expect(text.stdout.contains("data-loss: null_resource.server[1] (null_resource) is replaced; the data it holds is lost"))
    }
}

/// `prevent_destroy` on a module address longer than the engine's 78-column wrap, on every engine.
@Suite struct PreventDestroyRollbackTests {
    static let address = "module.some_long_module_name.module.another_nested_module.null_resource.protected_database[0]"

    /// The rollback names the whole address, recommends a forward fix with a playbook, and withdraws
    /// the other stack's plan so no half of the rollback is left pending.
    @Test(arguments: TestEngines.all)
    func aProtectedResourceBlocksTheRollbackByItsFullAddress(engine: String) throws {
        #expect(Self.address.count > 80)
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        // prevent_destroy lives in the configuration: the target release keeps the resource block
        // (with no instance), so the engine knows the rollback's destroy is forbidden.
        let files = [
            "modules/protected/main.tf": "module \"another_nested_module\" {\n  source = \"./nested\"\n}\n",
            "modules/protected/nested/main.tf":
                "resource \"null_resource\" \"protected_database\" {\n  count = 0\n\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n",
        ]
        for (path, text) in files {
            try FileManager.default.createDirectory(atPath: repo.repository + "/" + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: repo.repository + "/" + path))
        }
        try repo.cli.git("add", "-A")
        try repo.edit("stacks/network/main.tf", commit: "a protected database, not yet created") { $0 + "\nmodule \"some_long_module_name\" {\n  source = \"../../modules/protected\"\n}\n" }
        let first = try repo.cutRelease()
        try repo.releaseToProd(first)
        try repo.edit("modules/protected/nested/main.tf", commit: "create the database") { $0.replacingOccurrences(of: "count = 0", with: "count = 1") }
        try repo.edit("config/prod/app.tfvars", commit: "four servers in prod") { $0.replacingOccurrences(of: "instance_count = 3", with: "instance_count = 4") }
        let second = try repo.cutRelease()
        try repo.releaseToProd(second)

        let planned = try repo.cli.run("rollback", "--env", "prod", "--format", "json", "--playbook", repo.root + "/playbook.md")
        #expect(planned.status == 0, "\(planned.stderr)")
        let result = try planned.json()
        #expect(result["recommendation"] as? String == "forward-fix")
        let stacks = result["stacks"] as? [[String: Any]] ?? []
        #expect(stacks.map { $0["stack"] as? String } == ["network", "app"])
        let network = try #require(stacks.first)
        #expect(!(network["plan"] is [String: Any]))
        #expect(network["blocked"] as? String == "the engine refused to plan the rollback: prevent_destroy protects \(Self.address)")
        let risks = (network["risks"] as? [[String: Any]] ?? []).map { [$0["kind"] as? String, $0["subject"] as? String] }
        #expect(risks == [["prevent-destroy", Self.address]])
        let playbook = try String(contentsOfFile: repo.root + "/playbook.md", encoding: .utf8)
        #expect(playbook.contains("**Recommendation: `forward-fix`**"))
        #expect(playbook.contains("- **prevent-destroy** \(Self.address) has lifecycle.prevent_destroy, and the rollback would destroy it"))

        // app's rollback plan was made, but it is half a rollback: withdrawn, and the gate refuses it.
        let app = try #require(stacks.last?["plan"] as? [String: Any])
        #expect(app["status"] as? String == "superseded")
        let plan = try #require(app["id"] as? String)
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 3)
        #expect(try repo.cli.run("apply", plan).status == 3)
        #expect(try repo.cli.run("audit", "verify").status == 0)
    }
}

/// Break-glass: an emergency release straight to prod, still gated, on the record as needing a
/// post-hoc review until a second approver signs it.
@Suite struct BreakGlassTests {
    @Test func breakGlassIsRecordedAndUnreviewedUntilASecondApproverSigns() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.edit("tollgate.yaml", commit: "two prod approvers") {
            $0.replacingOccurrences(of: "approvers: [approver@example.com]", with: "approvers: [approver@example.com, ops@example.com]")
        }
        let hotfix = try repo.cutRelease()
        let ordered = try repo.cli.run("plan", hotfix, "--env", "prod", "--stack", "network")
        #expect(ordered.status == 3)
        #expect(ordered.stderr.contains("has not been applied successfully to 'stage'"))

        let planned = try repo.cli.run("plan", hotfix, "--env", "prod", "--stack", "network", "--break-glass", "outage: cert expired", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plan = try #require(try planned.jsonArray().first)
        let id = try #require(plan["id"] as? String)
        let breakGlass = try #require(plan["break_glass"] as? String ?? plan["break_glass"] as? String)
        // Still gated: no apply without prod's approval.
        #expect(try repo.cli.run("apply", id).status == 3)
        #expect(try repo.cli.run("approve", id, "--key", repo.key("approver")).status == 0)
        let applied = try repo.cli.run("apply", id)
        #expect(applied.status == 0, "\(applied.stderr)")

        let waiting = try repo.cli.run("status")
        #expect(waiting.stdout.contains("break-glass \(breakGlass)"))
        #expect(waiting.stdout.contains("(outage: cert expired); needs post-hoc review: tollgate review \(breakGlass) --key KEY"))
        // The approver of the break-glass plan cannot be its second pair of eyes.
        let same = try repo.cli.run("review", breakGlass, "--key", repo.key("approver"))
        #expect(same.status == 3)
        #expect(same.stderr.contains("a second approver must review it"))
        let reviewed = try repo.cli.run("review", breakGlass, "--key", repo.key("ops"), "--comment", "checked the cert rotation")
        #expect(reviewed.status == 0, "\(reviewed.stderr)")
        let after = try repo.cli.run("status", "--format", "json")
        let entries = try after.json()["break_glass"] as? [[String: Any]] ?? []
        #expect(entries.count == 1)
        #expect(entries.first?["reviewed_by"] as? [String] == ["ops@example.com"])
        #expect(try repo.cli.run("audit", "verify").status == 0)
    }
}
