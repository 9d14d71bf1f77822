import Foundation
import TestSupport
import Testing

/// Drift made by editing the state out of band: detected (exit 2), recorded, blocking the approval
/// gate until a signed acknowledgement, on every engine.
@Suite struct DriftTests {
    /// The local state file of one (env, stack) of the example, outside the repository.
    static func stateFile(_ repo: PromotionRepo, env: String, stack: String) throws -> String {
        let parent = (repo.repository as NSString).deletingLastPathComponent
        let candidates = try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.hasSuffix("-state") }
            .map { "\(parent)/\($0)/\(env)/\(stack).tfstate" }.filter { FileManager.default.fileExists(atPath: $0) }
        guard let file = candidates.first else { throw TestSupportError("no state file for \(env)/\(stack) under \(parent)") }
        return file
    }

    /// "Deleted outside Terraform": the null provider treats an empty id as a vanished object.
    static func deleteOutOfBand(_ file: String, address name: String) throws {
        try PromotionRepo.shell("""
            jq '.serial += 1 | (.resources[] | select(.type == "null_resource" and .name == "\(name)") | .instances[0].attributes.id) = ""' \
              '\(file)' > '\(file).edited' && mv '\(file).edited' '\(file)'
            """)
    }

    /// Drift blocks every plan made before it was found; a plan made after it shows it, and once
    /// approved and applied reconciles it. An acknowledgement settles it too, and survives finding
    /// the same drift again.
    @Test(arguments: TestEngines.all)
    func driftBlocksOlderPlansAndIsSettledByAReviewedPlanOrAnAcknowledgement(engine: String) throws {
        var repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        for stack in ["network", "app"] {
            let plan = try repo.plan("prod", stack)
            #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
            #expect(try repo.cli.run("apply", plan).status == 0)
        }
        let clean = try repo.cli.run("drift", "--env", "prod")
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("prod/app: no drift"))

        // A plan approved before the drift was found cannot have shown it: refused while it is open.
        repo.cli.environment["TOLLGATE_ACTOR"] = "ops@example.com"
        let older = try repo.plan("prod", "app")
        #expect(try repo.cli.run("approve", older, "--key", repo.key("approver")).status == 0)
        let state = try Self.stateFile(repo, env: "prod", stack: "app")
        try Self.deleteOutOfBand(state, address: "server")
        let found = try repo.cli.run("drift", "--env", "prod", "--stack", "app")
        #expect(found.status == 2, "\(found.stderr)")
        #expect(found.stdout.contains("null_resource.server[0]: deleted outside tollgate"))
        let json = try repo.cli.run("drift", "--env", "prod", "--stack", "app", "--format", "json")
        #expect(json.status == 2)
        let report = try json.json()
        #expect(report["drifted"] as? Bool == true)
        #expect(report["open"] as? Bool == true)
        #expect(report["mode"] as? String == "refresh")
        let refused = try repo.cli.run("apply", older)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("'prod/app' drifted outside tollgate (null_resource.server[0])"))
        #expect(refused.stderr.contains("or plan again: a plan made after the drift run shows the drift for review, and applying it reconciles the drift"))

        // A plan made now shows the drift; approved and applied, it reconciles it.
        let next = try repo.plan("prod", "app")
        let shown = try repo.cli.run("show", next, "--format", "json")
        #expect(shown.stdout.contains("null_resource.server[0]"), "\(shown.stdout)")
        #expect(try repo.cli.run("approve", next, "--key", repo.key("approver")).status == 0)
        let reconciled = try repo.cli.run("apply", next)
        #expect(reconciled.status == 0, "\(reconciled.stderr)")
        #expect(try repo.cli.run("drift", "--env", "prod", "--stack", "app").status == 0)

        // Drift again, accepted by an approver of prod (only by one); found again unchanged, it stays accepted.
        try Self.deleteOutOfBand(state, address: "server")
        #expect(try repo.cli.run("drift", "--env", "prod", "--stack", "app").status == 2)
        let outsider = try repo.cli.run("drift", "ack", "prod", "app", "--key", repo.key("ops"), "--comment", "not mine to accept")
        #expect(outsider.status == 3)
        #expect(outsider.stderr.contains("ops@example.com is not an approver of 'prod'"))
        let acknowledged = try repo.cli.run("drift", "ack", "prod", "app", "--key", repo.key("approver"), "--comment", "server was recycled by hand")
        #expect(acknowledged.status == 0, "\(acknowledged.stderr)")
        #expect(acknowledged.stdout.contains("approver@example.com acknowledged drift"))
        let again = try repo.cli.run("drift", "--env", "prod", "--stack", "app")
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("null_resource.server[0]: deleted outside tollgate"))
        #expect(again.stdout.contains("already acknowledged: the same drift was accepted before, so it does not block the gate"))
        let againJSON = try repo.cli.run("drift", "--env", "prod", "--stack", "app", "--format", "json").json()
        #expect(againJSON["drifted"] as? Bool == true)
        #expect(againJSON["open"] as? Bool == false)
        #expect(try repo.cli.run("drift", "ack", "prod", "app", "--key", repo.key("approver"), "--comment", "again").status == 1)
        #expect(try repo.cli.run("audit", "verify").status == 0)
    }

    /// A state edit the real world does not show: invisible to a refresh-only plan, found by a full one.
    @Test(arguments: TestEngines.all)
    func aStateEditIsSeenOnlyByFullDrift(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        try repo.promote("dev")
        let state = try Self.stateFile(repo, env: "dev", stack: "app")
        try PromotionRepo.shell("""
            jq '.serial += 1 | (.resources[] | select(.type == "null_resource" and .name == "server") | .instances[0].attributes.triggers.image_tag) = "v9"' \
              '\(state)' > '\(state).edited' && mv '\(state).edited' '\(state)'
            """)
        let refresh = try repo.cli.run("drift", "--env", "dev", "--stack", "app")
        #expect(refresh.status == 0, "\(refresh.stdout)\(refresh.stderr)")
        #expect(refresh.stdout.contains("dev/app: no drift"))
        let full = try repo.cli.run("drift", "--env", "dev", "--stack", "app", "--mode", "full", "--format", "json")
        #expect(full.status == 2, "\(full.stdout)\(full.stderr)")
        let run = try #require((try full.json()["runs"] as? [[String: Any]])?.first)
        #expect(run["mode"] as? String == "full")
        let resources = (run["report"] as? [String: Any])?["resources"] as? [[String: Any]] ?? []
        let data = try JSONSerialization.data(withJSONObject: resources, options: [.sortedKeys])
        #expect(String(decoding: data, as: UTF8.self)
            == #"[{"address":"null_resource.server[0]","attributes":[{"actual":"\"v9\"","path":"triggers.image_tag","recorded":"\"v1\""}],"kind":"changed"}]"#)
        let text = try repo.cli.run("drift", "--env", "dev", "--stack", "app", "--mode", "full")
        #expect(text.stdout.contains("    triggers.image_tag: \"v1\" → \"v9\""), "\(text.stdout)")
        #expect(try repo.cli.run("drift", "--env", "dev", "--mode", "sideways").status == 64)
    }

    @Test func theDriftCheckFailsWhileDriftIsOpen() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        // dev requires the drift check; dev has an auto gate, so a drifted dev is found by the check.
        let yaml = repo.repository + "/tollgate.yaml"
        let text = try String(contentsOfFile: yaml, encoding: .utf8)
            .replacingOccurrences(of: "    gate: auto\n    checks: [fmt, validate]", with: "    gate: auto\n    checks: [fmt, validate, drift]")
        try Data(text.utf8).write(to: URL(fileURLWithPath: yaml))
        try repo.cli.git("commit", "-q", "-am", "drift check in dev")
        let release = try repo.cli.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try repo.cli.run("promote", release, "--to", "dev").status == 0)
        try Self.deleteOutOfBand(try Self.stateFile(repo, env: "dev", stack: "app"), address: "server")
        #expect(try repo.cli.run("drift", "--env", "dev").status == 2)
        repo.cli.environment["TOLLGATE_ACTOR"] = "ops@example.com"
        let planned = try repo.cli.run("plan", release, "--env", "dev", "--stack", "app", "--format", "json")
        let checks = try #require(try planned.jsonArray().first)["checks"] as? [[String: Any]] ?? []
        let drift = try #require(checks.first { $0["name"] as? String == "drift" })
        #expect(drift["status"] as? String == "fail")
        #expect((drift["details"] as? [String])?.first?.contains("'dev/app' drifted outside tollgate") == true)
        // Acknowledged (dev has no approvers, so any listed signer may), the next plan passes the check and
        // warns that it overwrites the outside change.
        #expect(try repo.cli.run("drift", "ack", "dev", "app", "--key", repo.key("ops"), "--comment", "test env").status == 0)
        let again = try repo.cli.run("plan", release, "--env", "dev", "--stack", "app", "--format", "json")
        let after = try #require(try again.jsonArray().first)["checks"] as? [[String: Any]] ?? []
        let check = try #require(after.first { $0["name"] as? String == "drift" })
        #expect(check["status"] as? String == "warn")
        #expect((check["details"] as? [String])?.contains("null_resource.server[0] changed outside tollgate; this plan overwrites that change") == true)
    }
}
