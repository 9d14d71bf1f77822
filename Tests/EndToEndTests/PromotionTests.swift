import Foundation
import TestSupport
import Testing

/// The promotion core on the built binary and a real engine: every way of cheating the pipeline
/// is refused with exit 3, a reason, and an event on the record.
@Suite struct PromotionTests {
    static let engines = TestEngines.all

    @Test(arguments: engines) func demoTellsTheWholeStory(engine: String) throws {
        let root = try TemporaryDirectory("tollgate-demo-test")
        defer { root.remove() }
        var cli = CLI(directory: root.path, engine: engine, cache: root.path + "/cache")
        cli.environment["TOLLGATE_ACTOR"] = nil
        let result = try cli.run("demo", "--dir", root.path + "/d")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("the author tries to approve: REFUSED"))
        #expect(result.stdout.contains("author@example.com wrote this release"))
        #expect(result.stdout.contains("prod/app: applied"))
        // A release that loosens prod's gate is held for the approvers in force, not judged by itself.
        #expect(result.stdout.contains("prod/network: HELD for the approvers in force"))
        #expect(result.stdout.contains("changes the governance of 'prod' (gate: approval → auto; approvers: approver@example.com → none; required: 1 → -; max_plan_age: 1d → -), so it is judged by the governance in force, sealed in release "))
        #expect(result.stdout.contains("audit verify: intact"))
        #expect(result.stdout.contains("tollgate/prod/network/1"))
        #expect(result.stdout.contains("engine: terraform \(engine.contains("1.0.3") ? "1.0.3" : "")"))
    }

    @Test(arguments: engines) func tamperedPlanFileIsRefused(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        let plan = try repo.plan("dev", "network")
        let shown = try repo.cli.run("show", plan, "--format", "json")
        let digest = try #require((try shown.json()["plan"] as? [String: Any])?["digest"] as? String)
        let hex = digest.dropFirst(7)
        let path = repo.repository + "/.tollgate/artifacts/sha256/\(hex.prefix(2))/\(hex)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let result = try repo.cli.run("apply", plan)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("was approved for digest \(digest)"))
        #expect(result.stderr.contains("it was modified after it was stored"))
        #expect(!FileManager.default.fileExists(atPath: repo.statePath("dev", "network")))
    }

    @Test func approvalCopiedOntoAnotherPlanIsRefused() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        let first = try repo.plan("prod", "network")
        #expect(try repo.cli.run("approve", first, "--key", repo.key("approver")).status == 0)
        let second = try repo.plan("prod", "network")
        try repo.sql("""
            INSERT INTO approvals (id, plan_id, decision, principal, payload, signature, comment, created_at)
            SELECT 'a-copied', '\(second)', decision, principal, payload, signature, comment, created_at FROM approvals WHERE plan_id = '\(first)';
            """)
        let result = try repo.cli.run("apply", second)
        #expect(result.status == 3)
        #expect(result.stderr.contains("has 0 of 1 required approvals"))
        let shown = try repo.cli.run("show", second)
        #expect(shown.stdout.contains("a-copied (approver@example.com): it was signed for a different plan, release, environment or stack"))
        // The original plan was superseded by the second and can never be applied either.
        let old = try repo.cli.run("apply", first)
        #expect(old.status == 3)
        #expect(old.stderr.contains("is superseded"))
    }

    @Test func authorAndPlannerCannotApprove() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        let plan = try repo.plan("prod", "network")
        let author = try repo.cli.run("approve", plan, "--key", repo.key("author"))
        #expect(author.status == 3)
        #expect(author.stderr.contains("author@example.com wrote this release"))
        // The approver plans, so the approver may not approve that plan.
        var asApprover = repo.cli
        asApprover.environment["TOLLGATE_ACTOR"] = "approver@example.com"
        let own = try repo.plan("prod", "network", cli: asApprover)
        let planner = try repo.cli.run("approve", own, "--key", repo.key("approver"))
        #expect(planner.status == 3)
        #expect(planner.stderr.contains("approver@example.com made plan '\(own)' and cannot approve it"))
        // And a self-approval slipped into the ledger does not count at apply.
        try repo.sql("""
            INSERT INTO approvals (id, plan_id, decision, principal, payload, signature, comment, created_at)
            VALUES ('a-forged', '\(own)', 'approve', 'approver@example.com', '{}', 'not a signature', NULL, 0);
            """)
        let apply = try repo.cli.run("apply", own)
        #expect(apply.status == 3)
        #expect(apply.stderr.contains("has 0 of 1 required approvals"))
        let audit = try repo.cli.run("audit", "trace", "--env", "prod", "--format", "json")
        #expect(audit.status == 0)
    }

    @Test func unknownKeyAndNonApproverAreRefused() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        let plan = try repo.plan("prod", "network")
        let outsider = try repo.cli.run("approve", plan, "--key", repo.key("outsider"))
        #expect(outsider.status == 3)
        // prod has no governance in force yet (bootstrap), so the signers file is the release's own, sealed in it.
        #expect(outsider.stderr.contains("is not in the signers file '.tollgate/allowed_signers' sealed in release \(Digest.short(repo.release)), so its signature would prove nothing"))
        let ops = try repo.cli.run("approve", plan, "--key", repo.key("ops"))
        #expect(ops.status == 3)
        #expect(ops.stderr.contains("ops@example.com is not an approver of 'prod'"))
        // Removing the approver's key from the working tree's allowed_signers changes nothing: keys
        // come from the release, so the approval still verifies and the apply goes through.
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
        let signers = repo.repository + "/.tollgate/allowed_signers"
        let kept = try String(contentsOfFile: signers, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("approver@") }
        try Data((kept.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: signers))
        let apply = try repo.cli.run("apply", plan)
        #expect(apply.status == 0, "\(apply.stderr)")
        let events = try repo.cli.run("audit", "verify")
        #expect(events.status == 0)
    }

    @Test func expiredPlanIsRefused() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        repo.cli.pinClock("2026-11-20T10:00:00Z")
        let plan = try repo.plan("prod", "network")
        #expect(try repo.cli.run("approve", plan, "--key", repo.key("approver")).status == 0)
        repo.cli.pinClock("2026-11-21T10:00:01Z")
        let result = try repo.cli.run("apply", plan)
        #expect(result.status == 3)
        #expect(result.stderr.contains("is 1d1s old, older than the 1d that environment 'prod' allows"))
        repo.cli.pinClock("2026-11-21T09:59:00Z")
        #expect(try repo.cli.run("apply", plan).status == 0)
    }

    @Test func outOfOrderPromotionIsRefused() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        let result = try repo.cli.run("plan", repo.release, "--env", "prod")
        #expect(result.status == 3)
        #expect(result.stderr.contains("has not been applied successfully to 'stage' for stack 'network'"))
        let promote = try repo.cli.run("promote", repo.release, "--to", "prod")
        #expect(promote.status == 3)
        let events = try repo.cli.run("audit", "trace", "--format", "json")
        #expect(try events.jsonArray().allSatisfy { $0["env"] as? String == "dev" })
    }

    @Test func unmergedReleaseIsRefusedAtOnMerge() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.cli.git("checkout", "-q", "-b", "feature")
        try Data("instance_count = 2\nimage_tag      = \"v2\"\n".utf8).write(to: URL(fileURLWithPath: repo.repository + "/config/dev/app.tfvars"))
        try repo.cli.git("commit", "-q", "-am", "feature work")
        let released = try repo.cli.run("release")
        #expect(released.status == 0)
        let feature = released.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(feature != repo.release)
        let dev = try repo.cli.run("promote", feature, "--to", "dev")
        #expect(dev.status == 0, "\(dev.stderr)")
        let stage = try repo.cli.run("promote", feature, "--to", "stage")
        #expect(stage.status == 3)
        #expect(stage.stderr.contains("only takes releases merged to 'main'"))
    }

    @Test(arguments: engines) func lineageGuards(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        try repo.promote("dev")
        try repo.promote("stage")
        let first = try repo.plan("prod", "network")
        #expect(try repo.cli.run("approve", first, "--key", repo.key("approver")).status == 0)
        #expect(try repo.cli.run("apply", first).status == 0)
        // A prod plan, reviewed and approved; then prod's backend is pointed at an empty location.
        let next = try repo.plan("prod", "network")
        #expect(try repo.cli.run("approve", next, "--key", repo.key("approver")).status == 0)
        let prodState = repo.statePath("prod", "network")
        try FileManager.default.moveItem(atPath: prodState, toPath: prodState + ".moved")
        let empty = try repo.cli.run("apply", next)
        #expect(empty.status == 3, "\(empty.stderr)")
        #expect(empty.stderr.contains("the backend of 'prod/network' is empty, but 'prod' is pinned to lineage"))
        // dev's state copied over prod's: planning it as prod is refused.
        try FileManager.default.copyItem(atPath: repo.statePath("dev", "network"), toPath: prodState)
        let copied = try repo.cli.run("plan", repo.release, "--env", "prod", "--stack", "network")
        #expect(copied.status == 3)
        #expect(copied.stderr.contains("holds state lineage"))
        #expect(copied.stderr.contains("another environment's state must never be planned as 'prod'"))
        let applied = try repo.cli.run("apply", next)
        #expect(applied.status == 3)
        #expect(applied.stderr.contains("but 'prod' is pinned to lineage"))
    }

    @Test(arguments: engines) func stalePlanIsRefusedWithTheSerials(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        try repo.promote("dev")
        // Review a plan, then the state changes (an out-of-band write bumps the serial).
        try Data("cidr_block   = \"10.0.0.0/16\"\nsubnet_count = 2\n".utf8)
            .write(to: URL(fileURLWithPath: repo.repository + "/config/dev/network.tfvars"))
        try repo.cli.git("commit", "-q", "-am", "two subnets")
        let released = try repo.cli.run("release")
        let next = released.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let plan = try repo.cli.run("plan", next, "--env", "dev", "--stack", "network", "--format", "json")
        let id = try #require(try plan.jsonArray().first?["id"] as? String)
        let statePath = repo.statePath("dev", "network")
        var state = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: statePath))) as? [String: Any])
        let serial = try #require(state["serial"] as? Int)
        state["serial"] = serial + 1
        try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: statePath))
        let result = try repo.cli.run("apply", id)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("the state serial of 'dev/network' moved from \(serial) to \(serial + 1) since the review"))
        let shown = try repo.cli.run("show", id, "--format", "json")
        #expect((try shown.json()["plan"] as? [String: Any])?["status"] as? String == "stale")
    }

    @Test func concurrentApplyIsRefusedNamingTheHolder() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let plan = try repo.plan("dev", "network")
        // Another runner's apply holds a live lease.
        let later = Int64((Date().timeIntervalSince1970 + 3600) * 1000)
        try repo.sql("""
            INSERT INTO applies (id, plan_id, env, stack, actor, started_at, outcome) VALUES ('x-other', '\(plan)', 'dev', 'network', 'alice@example.com', 0, 'running');
            INSERT INTO locks (env, stack, apply_id, holder, host, pid, acquired_at, expires_at, token, run_url)
                VALUES ('dev', 'network', 'x-other', 'alice@example.com', 'runner-7', 4242, 0, \(later), 7, 'https://ci.example/runs/7');
            """)
        let until = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(later) / 1000))
        let result = try repo.cli.run("apply", plan)
        #expect(result.status == 3)
        #expect(result.stderr == "tollgate: refused: 'dev/network' is locked by alice@example.com (apply x-other, lease #7 on runner-7, https://ci.example/runs/7, since 1970-01-01T00:00:00Z); its lease runs until \(until) and is renewed while it applies, so wait for it to finish\n")
        let refusedUnlock = try repo.cli.run("unlock", "dev", "network", "--reason", "impatient")
        #expect(refusedUnlock.status == 3)
        #expect(refusedUnlock.stderr.contains("; 'tollgate unlock' releases only a lock whose lease expired"))
        // The runner is killed: its lease runs out, status says so, unlock releases it and the apply is interrupted.
        try repo.sql("UPDATE locks SET expires_at = 1000 WHERE env = 'dev';")
        let status = try repo.cli.run("status")
        #expect(status.stdout.contains("alice@example.com (lease expired at 1970-01-01T00:00:01Z: holder gone, run 'tollgate unlock')"), "\(status.stdout)")
        let unlock = try repo.cli.run("unlock", "dev", "network", "--reason", "runner killed")
        #expect(unlock.status == 0, "\(unlock.stderr)")
        let after = try repo.cli.run("status", "--format", "json")
        let cell = try #require((try after.json()["cells"] as? [[String: Any]])?.first)
        #expect((cell["last_problem"] as? [String: Any])?["outcome"] as? String == "interrupted")
        #expect(try repo.cli.run("apply", plan).status == 0)
    }

    @Test func anApplyTakesOverALeaseThatRanOut() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let plan = try repo.plan("dev", "network")
        try repo.sql("""
            INSERT INTO applies (id, plan_id, env, stack, actor, started_at, outcome) VALUES ('x-killed', '\(plan)', 'dev', 'network', 'alice@example.com', 0, 'running');
            INSERT INTO locks (env, stack, apply_id, holder, host, pid, acquired_at, expires_at, token) VALUES ('dev', 'network', 'x-killed', 'alice@example.com', 'gone', 1, 0, 1000, 3);
            """)
        let applied = try repo.cli.run("apply", plan)
        #expect(applied.status == 0, "\(applied.stderr)")
        let history = try repo.cli.run("history", "--env", "dev", "--format", "json")
        let entries = try #require(try history.json()["entries"] as? [[String: Any]])
        #expect(entries.map { $0["outcome"] as? String } == ["interrupted", "success"])
        #expect(entries.first?["detail"] as? String == "its lease expired at 1970-01-01T00:00:01Z: the runner stopped renewing it (killed or cut off)")
    }

    @Test func auditVerifyNamesTheBadEvent() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        let clean = try repo.cli.run("audit", "verify", "--format", "json")
        #expect(clean.status == 0)
        #expect(try clean.json()["intact"] as? Bool == true)
        let count = try #require(try clean.json()["events"] as? Int)
        #expect(count >= 5)

        let copy = repo.repository + "/.tollgate/ledger.sqlite"
        let pristine = try Data(contentsOf: URL(fileURLWithPath: copy))
        for (sql, bad) in [
            ("UPDATE events SET actor = 'mallory' WHERE seq = 3;", 3),
            ("DELETE FROM events WHERE seq = 2;", 3),
            ("UPDATE events SET seq = -2 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 4; UPDATE events SET seq = 4 WHERE seq = -2;", 2),
        ] {
            try pristine.write(to: URL(fileURLWithPath: copy))
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
            try repo.sql(sql)
            let result = try repo.cli.run("audit", "verify")
            #expect(result.status == 1, "\(sql)")
            #expect(result.stdout.contains("audit chain BROKEN at event \(bad)"), "\(sql): \(result.stdout)")
        }
    }

    @Test func plantedSecretAppearsNowhere() throws {
        let secret = "planted-\(UUID().uuidString)"
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        // The app stack takes a sensitive variable from the dev environment's secrets.
        let yaml = repo.repository + "/tollgate.yaml"
        let text = try String(contentsOfFile: yaml, encoding: .utf8).replacingOccurrences(
            of: "    gate: auto\n", with: "    gate: auto\n    secrets:\n      db_password: env:TEST_DB_PASSWORD\n")
        try Data(text.utf8).write(to: URL(fileURLWithPath: yaml))
        let app = repo.repository + "/stacks/app/main.tf"
        try Data((try String(contentsOfFile: app, encoding: .utf8) + """

            variable "db_password" {
              type      = string
              sensitive = true
            }

            resource "null_resource" "db" {
              triggers = {
                password = var.db_password
                # Unmarked on purpose: a derived form of the secret the engine no longer masks.
                encoded = nonsensitive(base64encode(var.db_password))
              }
            }

            """).utf8).write(to: URL(fileURLWithPath: app))
        try repo.cli.git("commit", "-q", "-am", "database password")
        repo.cli.environment["TEST_DB_PASSWORD"] = secret
        let released = try repo.cli.run("release")
        let release = released.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var outputs: [String] = []
        for arguments in [["promote", release, "--to", "dev", "--format", "json"], ["status"], ["audit", "trace"], ["audit", "verify"], ["promote", release, "--to", "dev"]] {
            let result = try repo.cli.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            outputs += [result.stdout, result.stderr]
        }
        let plans = try repo.cli.run("plan", release, "--env", "dev", "--format", "json")
        outputs += [plans.stdout, plans.stderr]
        let id = try #require(try plans.jsonArray().last?["id"] as? String)
        for format in ["text", "json", "markdown"] { outputs.append(try repo.cli.run("show", id, "--format", format).stdout) }
        let encoded = Data(secret.utf8).base64EncodedString()
        for text in outputs {
            #expect(!text.contains(secret))
            #expect(!text.contains(encoded))
        }
        // The review shows the resource's attributes, the secret masked in both forms.
        let steps = try CLI.Result(status: 0, stdout: outputs[0], stderr: "").jsonArray()
        let applied = try #require(steps.first { $0["stack"] as? String == "app" }?["plan"] as? String, "\(outputs[0])")
        let shown = try repo.cli.run("show", applied).stdout
        #expect(shown.contains("""
              create   null_resource.db
                         + id = (known after apply)
                         + triggers.encoded = "(redacted)"
                         + triggers.password = (sensitive)
            """), "\(shown)")
        var ledgerBytes = Data()
        for suffix in ["", "-wal"] { ledgerBytes += (try? Data(contentsOf: URL(fileURLWithPath: repo.repository + "/.tollgate/ledger.sqlite" + suffix))) ?? Data() }
        #expect(ledgerBytes.range(of: Data(secret.utf8)) == nil, "the secret is in the ledger")
        #expect(ledgerBytes.range(of: Data(encoded.utf8)) == nil, "the secret's base64 is in the ledger")
        // Stored plan JSON is redacted (the engine's plan file itself holds variable values).
        let artifacts = try FileManager.default.subpathsOfDirectory(atPath: repo.repository + "/.tollgate/artifacts")
        var redactedJSON = 0
        for path in artifacts {
            let data = (try? Data(contentsOf: URL(fileURLWithPath: repo.repository + "/.tollgate/artifacts/" + path))) ?? Data()
            guard data.first == UInt8(ascii: "{") else { continue }
            #expect(data.range(of: Data(secret.utf8)) == nil, "plan JSON \(path) holds the secret")
            #expect(data.range(of: Data(encoded.utf8)) == nil, "plan JSON \(path) holds the secret's base64")
            if data.range(of: Data("(redacted)".utf8)) != nil { redactedJSON += 1 }
        }
        #expect(redactedJSON >= 1)
    }
}
