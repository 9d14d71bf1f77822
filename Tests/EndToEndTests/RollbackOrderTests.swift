import Foundation
import TestSupport
import Testing

/// Rollbacks across stacks that read each other's outputs, and the judgement of what a rollback
/// re-creates or destroys, on real terraform.
@Suite struct RollbackOrderTests {
    static let readingApp = """
        variable "network_state" {
          type        = string
          description = "Path of the network stack's state in this environment."
        }

        data "terraform_remote_state" "network" {
          backend = "local"

          config = {
            path = var.network_state
          }
        }

        resource "null_resource" "server" {
          count = var.instance_count

          triggers = {
            image_tag = var.image_tag
            index     = count.index
            subnet    = element(data.terraform_remote_state.network.outputs.subnet_ids, count.index)
          }
        }

        """

    /// The example repository with an app that reads the network's subnets through
    /// `terraform_remote_state`, each environment pointing at its own network state.
    static func readingRepo(engine: String) throws -> PromotionRepo {
        let repo = try PromotionRepo(engine: engine)
        try Data(readingApp.utf8).write(to: URL(fileURLWithPath: repo.repository + "/stacks/app/main.tf"))
        for env in ["dev", "stage", "prod"] {
            try repo.edit("config/\(env)/app.tfvars", commit: "app reads the \(env) network") {
                $0 + "network_state  = \"\(repo.statePath(env, "network"))\"\n"
            }
        }
        return repo
    }

    /// `tollgate rollback --env prod ARGUMENTS --format json`, which must succeed, as JSON.
    func rollback(_ repo: PromotionRepo, _ arguments: String...) throws -> [String: Any] {
        let planned = try repo.cli.run(["rollback", "--env", "prod"] + arguments + ["--format", "json"])
        #expect(planned.status == 0, "\(planned.stderr)")
        return try planned.json()
    }

    /// Runs one playbook command as the approver would, KEY standing for the approver's key.
    func run(_ command: String, in repo: PromotionRepo) throws -> CLI.Result {
        var words = command.split(separator: " ").map(String.init)
        #expect(words.first == "tollgate")
        words.removeFirst()
        return try repo.cli.run(words.map { $0 == "KEY" ? repo.key("approver") : $0.trimmingCharacters(in: CharacterSet(charactersIn: "'")) })
    }

    /// The network rolls back first; the app's plan, made against the network's outputs of today,
    /// is provisional and refused once the network's apply changed them; the playbook, followed
    /// command by command, leaves both stacks equal to a fresh plan of the target.
    @Test(arguments: TestEngines.all)
    func aDependentIsPlannedAgainAfterWhatItReadsRollsBack(engine: String) throws {
        let repo = try Self.readingRepo(engine: engine)
        defer { repo.remove() }
        let first = try repo.cutRelease()
        try repo.releaseToProd(first)
        try repo.edit("config/prod/network.tfvars", commit: "two subnets in prod") { $0.replacingOccurrences(of: "subnet_count = 3", with: "subnet_count = 2") }
        let second = try repo.cutRelease()
        try repo.releaseToProd(second)

        let result = try rollback(repo, "--playbook", repo.root + "/playbook.md")
        let stacks = result["stacks"] as? [[String: Any]] ?? []
        #expect(stacks.map { $0["stack"] as? String } == ["network", "app"])
        #expect(stacks.map { $0["provisional"] as? Bool } == [false, true])
        #expect(stacks.map { $0["waits_for"] as? [String] } == [[], ["network"]])
        #expect(stacks.map { $0["target"] as? String } == [first, first])
        let risks = (stacks.first?["risks"] as? [[String: Any]] ?? []).map { "\($0["kind"] as? String ?? "") \($0["detail"] as? String ?? "")" }
        #expect(risks == ["consumed-output output 'subnet_ids' of 'network' changes and app reads it"])
        let network = try #require((stacks[0]["plan"] as? [String: Any])?["id"] as? String)
        let provisional = try #require((stacks[1]["plan"] as? [String: Any])?["id"] as? String)
        #expect(result["commands"] as? [String] == [
            "tollgate approve \(network) --key KEY",
            "tollgate apply \(network)",
            "tollgate rollback --env prod --stack app --playbook rollback-prod-app.md",
        ])
        let playbook = try String(contentsOfFile: repo.root + "/playbook.md", encoding: .utf8)
        #expect(playbook.contains("Provisional: made against the outputs network holds today, which their rollback changes."))
        #expect(playbook.contains("plan the provisional stacks again against what their upstreams now hold: `tollgate rollback --env prod --stack app --playbook rollback-prod-app.md`"))

        let commands = result["commands"] as? [String] ?? []
        for command in commands.prefix(2) {
            let ran = try run(command, in: repo)
            #expect(ran.status == 0, "\(command): \(ran.stderr)")
        }
        // The provisional plan holds the network's outputs of before: the gate refuses it now.
        #expect(try repo.cli.run("approve", provisional, "--key", repo.key("approver")).status == 0)
        let refused = try repo.cli.run("apply", provisional)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("changed output 'subnet_ids', which 'app' reads through data.terraform_remote_state.network; the plan holds the old values, so re-run 'tollgate plan \(first) --env prod --stack app'"),
                "\(refused.stderr)")

        let again = try run(commands[2] + " --format json", in: repo)
        #expect(again.status == 0, "\(again.stderr)")
        let second_round = try again.json()
        let app = (second_round["stacks"] as? [[String: Any]])?.first
        #expect(app?["provisional"] as? Bool == false)
        #expect(app?["target"] as? String == first)
        let replan = try #require((app?["plan"] as? [String: Any])?["id"] as? String)
        #expect(second_round["commands"] as? [String] == ["tollgate approve \(replan) --key KEY", "tollgate apply \(replan)"])
        #expect(FileManager.default.fileExists(atPath: repo.repository + "/rollback-prod-app.md"))
        for command in second_round["commands"] as? [String] ?? [] {
            let ran = try run(command, in: repo)
            #expect(ran.status == 0, "\(command): \(ran.stderr)")
        }

        // Every stack now equals a fresh plan of the target: nothing left to change.
        for stack in ["network", "app"] {
            let fresh = try repo.cli.run("plan", first, "--env", "prod", "--stack", stack, "--format", "json")
            #expect(fresh.status == 0, "\(fresh.stderr)")
            #expect(try fresh.jsonArray().first?["has_changes"] as? Bool == false, "\(stack): \(fresh.stdout)")
        }
        #expect(try repo.cli.run("audit", "verify").status == 0)
    }

    /// One release in prod: nothing to roll back to. A resource the running release protects with
    /// prevent_destroy, which the target does not know: a forward fix, every plan withdrawn.
    @Test(arguments: TestEngines.all)
    func aResourceProtectedNowIsNotDestroyedByARollback(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        let first = try repo.cutRelease()
        try repo.releaseToProd(first)
        let nothing = try rollback(repo)
        #expect(nothing["recommendation"] as? String == "nothing-to-roll-back")
        #expect(nothing["reasons"] as? [String] == [
            "'prod/app' has run no release before \(first.prefix(19))…",
            "'prod/network' has run no release before \(first.prefix(19))…",
        ])
        #expect(nothing["commands"] as? [String] == [])

        try repo.edit("stacks/network/main.tf", commit: "a protected registry") {
            $0 + "\nresource \"null_resource\" \"registry\" {\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n"
        }
        let second = try repo.cutRelease()
        try repo.releaseToProd(second)
        let result = try rollback(repo)
        #expect(result["recommendation"] as? String == "forward-fix")
        let network = (result["stacks"] as? [[String: Any]] ?? []).first { $0["stack"] as? String == "network" }
        let kinds = (network?["risks"] as? [[String: Any]] ?? []).map { "\($0["kind"] as? String ?? "") \($0["subject"] as? String ?? "")" }
        #expect(kinds == ["created-since-target null_resource.registry", "protected-now null_resource.registry"])
        #expect(result["commands"] as? [String] == [])
        let plan = try #require((network?["plan"] as? [String: Any])?["id"] as? String)
        #expect((network?["plan"] as? [String: Any])?["status"] as? String == "superseded")
        #expect(try repo.cli.run("apply", plan).status == 3)
    }

    /// A stateful resource destroyed since the target is created anew by the rollback: empty.
    @Test(arguments: TestEngines.all)
    func aStatefulResourceRecreatedByARollbackIsCalledEmpty(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        try repo.edit("tollgate.yaml", commit: "servers are stateful") { $0 + "\nstateful_types: [null_resource]\n" }
        let first = try repo.cutRelease()
        try repo.releaseToProd(first)
        try repo.edit("config/prod/app.tfvars", commit: "two servers in prod") { $0.replacingOccurrences(of: "instance_count = 3", with: "instance_count = 2") }
        let second = try repo.cutRelease()
        let plans = try repo.releaseToProd(second, apply: ["network"])
        let app = try #require(plans["app"])
        #expect(try repo.cli.run("approve", app, "--key", repo.key("approver"), "--acknowledge-destroy", "null_resource.server[2]").status == 0)
        #expect(try repo.cli.run("apply", app).status == 0)

        let result = try rollback(repo, "--stack", "app")
        #expect(result["recommendation"] as? String == "revert-with-care")
        let risks = ((result["stacks"] as? [[String: Any]])?.first?["risks"] as? [[String: Any]] ?? []).map { $0["detail"] as? String ?? "" }
        #expect(risks == ["null_resource.server[2] (null_resource) is created anew: the one the target release ran was destroyed since, so it starts empty and its data is gone"])
        #expect(result["steps"] as? [String] == ["after applying, restore the data of null_resource.server[2] in app from a backup taken before it was destroyed"])
    }
}
