import Foundation
import TestSupport
import Testing

/// Ephemeral copies on real terraform: up, test with the stacks' outputs, down, gc of an expired
/// one, a failing test kept on the record, and the `ephemeral` check in front of an environment.
@Suite struct EphemeralTests {
    static let section = """

        ephemeral:
          backend:
            type: local
            settings:
              path: ../ephemeral-state/{ephemeral}/{env}/{stack}.tfstate
          ttl: 1h
          tests:
            - name: network-output
              run: test -n "$TOLLGATE_OUTPUT_NETWORK_VPC_ID" && echo "vpc $TOLLGATE_OUTPUT_NETWORK_VPC_ID in $TOLLGATE_EPHEMERAL"
            - name: servers
              run: echo "$TOLLGATE_OUTPUT_APP_SERVER_IDS" | grep -q '^\\['

        """

    /// The example repository with the ephemeral section (and `extra` appended), committed and released.
    static func repository(extra: String = "", checks: String? = nil) throws -> (PromotionRepo, String) {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        let yaml = repo.repository + "/tollgate.yaml"
        var text = try String(contentsOfFile: yaml, encoding: .utf8) + Self.section + extra
        if let checks {
            text = text.replacingOccurrences(of: "    gate: on-merge\n    checks: [fmt, validate]", with: "    gate: on-merge\n    checks: \(checks)")
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: yaml))
        try repo.cli.git("commit", "-q", "-am", "ephemeral environments")
        let released = try repo.cli.run("release")
        guard released.status == 0 else { throw TestSupportError("release: \(released.stderr)") }
        return (repo, released.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func stateFiles(_ repo: PromotionRepo, _ name: String) -> [String] {
        let directory = (repo.repository as NSString).deletingLastPathComponent + "/ephemeral-state/\(name)"
        return (FileManager.default.subpaths(atPath: directory) ?? []).filter { $0.hasSuffix(".tfstate") }.sorted()
    }

    /// The code is told the copy's name (`var.tollgate_ephemeral`), a tfvars line naming the model's
    /// own state is warned about, and no work dir (plan files hold secrets) outlives the copy.
    @Test(arguments: TestEngines.all)
    func theCopyKnowsItsNameIsWarnedOfSharedStateAndLeavesNoWorkDirs(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        let named = """
            variable "tollgate_ephemeral" {
              type        = string
              default     = ""
              description = "The ephemeral copy's name, or empty in a real environment."
            }

            variable "network_state" {
              type    = string
              default = ""
            }

            output "copy" {
              value = var.tollgate_ephemeral
            }

            """
        try Data(named.utf8).write(to: URL(fileURLWithPath: repo.repository + "/stacks/app/copy.tf"))
        try repo.cli.git("add", "-A")
        let tests = """

            ephemeral:
              backend:
                type: local
                settings:
                  path: ../ephemeral-state/{ephemeral}/{env}/{stack}.tfstate
              tests:
                - name: named
                  run: test "$TOLLGATE_OUTPUT_APP_COPY" = "$TOLLGATE_EPHEMERAL" && echo "copy $TOLLGATE_OUTPUT_APP_COPY"

            """
        try repo.edit("tollgate.yaml", commit: "copies know their name") { $0 + tests }
        try repo.edit("config/stage/app.tfvars", commit: "stage reads its network state") {
            $0 + "network_state  = \"\(repo.statePath("stage", "network"))\"\n"
        }
        let release = try repo.cutRelease()
        let up = try repo.cli.run("ephemeral", "up", "pr-7", "--like", "stage", "--release", release)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stderr.contains("warning: config/stage/app.tfvars:3: network_state  = \"\(repo.statePath("stage", "network"))\" names where 'stage' keeps its own state; in copy 'pr-7' a terraform_remote_state fed from it reads 'stage's real state, not the copy's"),
                "\(up.stderr)")
        let tested = try repo.cli.run("ephemeral", "test", "pr-7", "--format", "json")
        #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")
        #expect((try tested.json()["tests"] as? [[String: Any]])?.first?["output"] as? String == "copy pr-7")
        #expect(try repo.cli.run("ephemeral", "down", "pr-7").status == 0)
        let work = repo.repository + "/.tollgate/work"
        let left = (FileManager.default.subpaths(atPath: work) ?? []).filter { $0.contains("ephemeral") }
        #expect(left.isEmpty, "\(left)")
        let events = try repo.cli.run("audit", "export").stdout
        #expect(events.contains("model_state_references"))
    }

    @Test func upTestDownAndGarbageCollection() throws {
        var (repo, release) = try Self.repository()
        defer { repo.remove() }
        let up = try repo.cli.run("ephemeral", "up", "pr-42", "--like", "stage", "--release", release)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stdout.contains("pr-42: up, copy of stage"))
        #expect(stateFiles(repo, "pr-42") == ["stage/app.tfstate", "stage/network.tfstate"])

        let tested = try repo.cli.run("ephemeral", "test", "pr-42", "--format", "json")
        #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")
        let tests = try tested.json()["tests"] as? [[String: Any]] ?? []
        #expect(tests.map { $0["name"] as? String } == ["network-output", "servers"])
        #expect(tests.allSatisfy { $0["exit_status"] as? Int == 0 || $0["exit_status"] as? Int == 0 })
        #expect((tests.first?["output"] as? String)?.hasPrefix("vpc ") == true)
        #expect((tests.first?["output"] as? String)?.hasSuffix(" in pr-42") == true)

        let down = try repo.cli.run("ephemeral", "down", "pr-42")
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stdout.contains("pr-42: down"))
        let state = try String(contentsOfFile: (repo.repository as NSString).deletingLastPathComponent + "/ephemeral-state/pr-42/stage/app.tfstate", encoding: .utf8)
        #expect(state.contains("\"resources\": []"), "the copy's state is empty after down")

        // An expired copy is destroyed by gc; a fresh one is left alone.
        #expect(try repo.cli.run("ephemeral", "up", "old", "--like", "dev", "--release", release).status == 0)
        repo.cli.pinClock("2099-01-01T00:00:00Z")
        #expect(try repo.cli.run("ephemeral", "up", "fresh", "--like", "dev", "--release", release).status == 0)
        let collected = try repo.cli.run("ephemeral", "gc")
        #expect(collected.status == 0, "\(collected.stderr)")
        #expect(collected.stdout.contains("old: down"))
        #expect(!collected.stdout.contains("fresh"))
        let listed = try repo.cli.run("ephemeral", "list", "--format", "json")
        let statuses = Dictionary(uniqueKeysWithValues: try listed.jsonArray().map { ($0["name"] as? String ?? "", $0["status"] as? String ?? "") })
        #expect(statuses == ["pr-42": "down", "old": "down", "fresh": "up"])
        #expect(try repo.cli.run("audit", "verify").status == 0)
    }

    @Test func aFailingTestIsRecordedAndTheEphemeralCheckBlocksTheEnvironment() throws {
        let extra = """
                - name: always-fails
                  run: echo "expected 3 servers" >&2; exit 4

            """
        let (repo, release) = try Self.repository(extra: extra, checks: "[fmt, validate, ephemeral]")
        defer { repo.remove() }
        #expect(try repo.cli.run("promote", release, "--to", "dev").status == 0)
        let planned = try repo.cli.run("plan", release, "--env", "stage", "--stack", "network", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let checks = try #require(try planned.jsonArray().first)["checks"] as? [[String: Any]] ?? []
        let check = try #require(checks.first { $0["name"] as? String == "ephemeral" })
        #expect(check["status"] as? String == "fail")
        let details = check["details"] as? [String] ?? []
        #expect(details.count == 1)
        #expect(details.first?.hasPrefix("test 'always-fails' exited 4 on 'check-") == true)
        #expect(details.first?.contains("expected 3 servers") == true)
        // The copy was destroyed after its tests, and stays on the record.
        let listed = try repo.cli.run("ephemeral", "list", "--format", "json").jsonArray()
        #expect(listed.count == 1)
        #expect(listed.first?["status"] as? String == "down")
        let id = try #require(try planned.jsonArray().first?["id"] as? String)
        let apply = try repo.cli.run("apply", id)
        #expect(apply.status == 3)
        #expect(apply.stderr.contains("check 'ephemeral' failed"))
    }

    @Test func aCopyThatFailsToComeUpStaysListedForCleanup() throws {
        let (repo, release) = try Self.repository()
        defer { repo.remove() }
        // A file where the copy's state directory belongs: the engine cannot write its state.
        let blocker = (repo.repository as NSString).deletingLastPathComponent + "/ephemeral-state/doomed"
        try FileManager.default.createDirectory(atPath: (blocker as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: blocker))
        let up = try repo.cli.run("ephemeral", "up", "doomed", "--like", "stage", "--release", release)
        #expect(up.status == 1)
        #expect(up.stderr.contains("ephemeral environment 'doomed' failed to come up and is listed for cleanup"))
        try FileManager.default.removeItem(atPath: blocker)
        let listed = try repo.cli.run("ephemeral", "list")
        #expect(listed.stdout.contains("doomed: failed, copy of stage"))
        #expect(try repo.cli.run("ephemeral", "down", "doomed").status == 0)
        #expect(try repo.cli.run("ephemeral", "list").stdout.contains("doomed: down"))
    }
}

extension EphemeralTests {
    @Test func theEphemeralCheckPassesOnceForTheRelease() throws {
        let (repo, release) = try Self.repository(checks: "[fmt, validate, ephemeral]")
        defer { repo.remove() }
        #expect(try repo.cli.run("promote", release, "--to", "dev").status == 0)
        let planned = try repo.cli.run("plan", release, "--env", "stage", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plans = try planned.jsonArray()
        func ephemeral(_ plan: [String: Any]) -> [String: Any]? {
            (plan["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "ephemeral" }
        }
        #expect(plans.map { ephemeral($0)?["status"] as? String } == ["pass", "pass"])
        // The first stack's plan ran up → test → down; the second reused that pass.
        let first = ephemeral(plans[0])?["details"] as? [String] ?? []
        #expect(first.contains { $0.hasPrefix("test 'servers' passed on 'check-") })
        #expect((ephemeral(plans[1])?["details"] as? [String])?.first?.hasPrefix("passed earlier as 'check-") == true)
        #expect(try repo.cli.run("ephemeral", "list").stdout.contains(": down, copy of stage"))
    }
}
