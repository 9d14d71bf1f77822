import Foundation
import Testing
import TestSupport

/// Team mode on a real PostgreSQL: fresh clones of one origin share the ledger and the artifacts,
/// as CI runners and an approver's laptop would, and nothing is written to a local ledger.
@Suite struct TeamModeTests {
    /// The server the tests use (`make test` starts one); outside CI its absence leaves the tests out.
    static let server = ProcessInfo.processInfo.environment["TOLLGATE_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = ProcessInfo.processInfo.environment["CI"] != nil

    /// A fresh database on the test server, by URL.
    static func database() throws -> String {
        guard let server else {
            throw TestSupportError("TOLLGATE_TEST_DATABASE_URL is not set; run 'scripts/pg-test-server.sh start' and export what it prints (make test does both)")
        }
        let name = "e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try PromotionRepo.shell("psql -q -v ON_ERROR_STOP=1 '\(server)' -c 'CREATE DATABASE \(name)'")
        guard let slash = server.range(of: "/", options: .backwards, range: server.range(of: "@")!.upperBound..<server.endIndex) else {
            throw TestSupportError("cannot find the database in the test server's URL")
        }
        let query = server[slash.upperBound...].firstIndex(of: "?").map { String(server[$0...]) } ?? ""
        return String(server[..<slash.upperBound]) + name + query
    }

    /// Drops a database `database()` made.
    static func drop(_ url: String) {
        guard let server, let name = url.split(separator: "/").last?.split(separator: "?").first else { return }
        _ = try? PromotionRepo.shell("psql -q '\(server)' -c 'DROP DATABASE IF EXISTS \(name) WITH (FORCE)'")
    }

    /// A repository of the example pipeline with a fresh team database and an artifact key; the
    /// repository and the database are removed when `body` returns.
    static func withTeam(_ body: (PromotionRepo, _ database: String, _ key: String) throws -> Void) throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let database = try database()
        defer { drop(database) }
        try body(repo, database, try newKey(repo))
    }

    /// A fresh artifact key from `tollgate ledger new-key`.
    static func newKey(_ repo: PromotionRepo) throws -> String {
        try repo.cli.run("ledger", "new-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A clone of the origin that talks to the team ledger.
    static func runner(_ repo: PromotionRepo, _ name: String, database: String, key: String) throws -> CLI {
        let path = repo.root + "/" + name
        try PromotionRepo.shell("git clone -q '\(repo.repository)' '\(path)'")
        var cli = CLI(directory: path, engine: repo.cli.environment["TOLLGATE_ENGINE"], cache: repo.root + "/cache")
        cli.environment["TOLLGATE_ACTOR"] = "ci-\(name)@example.com"
        cli.environment["TOLLGATE_DATABASE_URL"] = database
        cli.environment["TOLLGATE_ARTIFACT_KEY"] = key
        // The state backend's password, when the pipeline keeps state in PostgreSQL.
        cli.environment["PGPASSWORD"] = server.flatMap { URLComponents(string: $0)?.password }
        return cli
    }

    /// Moves every environment's state into the `pg` backend on the test server, as a team keeps it:
    /// one database per environment, one schema per stack. Commits the change in the origin and
    /// returns the state databases' URLs by environment.
    static func statePerEnvironmentInPostgres(_ repo: PromotionRepo) throws -> [String: String] {
        guard let server, let components = URLComponents(string: server), let host = components.host, let port = components.port else {
            throw TestSupportError("TOLLGATE_TEST_DATABASE_URL is not set or names no host and port")
        }
        let prefix = "state_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(10)
        var databases: [String: String] = [:]
        for env in ["dev", "stage", "prod"] {
            try PromotionRepo.shell("psql -q -v ON_ERROR_STOP=1 '\(server)' -c 'CREATE DATABASE \(prefix)_\(env)'")
            databases[env] = server.replacingOccurrences(of: "/tollgate?", with: "/\(prefix)_\(env)?")
        }
        let pipeline = repo.repository + "/tollgate.yaml"
        var text = try String(contentsOfFile: pipeline, encoding: .utf8)
        let local = try Regex(#"type: local\n(\s+)settings:\n\s+path: [^\n]+"#)
        text = text.replacing(local) { match in
            let indent = String(match.output[1].substring ?? "      ")
            // No password here: the engine's driver reads PGPASSWORD, as a CI secret would provide it.
            return "type: pg\n\(indent)settings:\n\(indent)  conn_str: postgres://\(components.user ?? "tollgate")@\(host):\(port)/\(prefix)_{env}?sslmode=disable\n\(indent)  schema_name: \"{stack}\""
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: pipeline))
        for stack in ["network", "app"] {
            let versions = repo.repository + "/stacks/\(stack)/versions.tf"
            let code = try String(contentsOfFile: versions, encoding: .utf8).replacingOccurrences(of: #"backend "local" {}"#, with: #"backend "pg" {}"#)
            try Data(code.utf8).write(to: URL(fileURLWithPath: versions))
        }
        try repo.cli.git("commit", "-q", "-am", "state in the pg backend")
        return databases
    }

    /// Rows in one stack's state table of an environment's state database.
    static func stateRows(_ url: String, stack: String) throws -> Int {
        Int(try PromotionRepo.shell("psql -qtA '\(url)' -c 'SELECT count(*) FROM \(stack).states'").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test(.enabled(if: server != nil || required), arguments: TestEngines.all)
    func freshClonesShareOneLedgerWithStateInThePgBackend(engine: String) throws {
        let repo = try PromotionRepo(engine: engine)
        defer { repo.remove() }
        let database = try Self.database()
        defer { Self.drop(database) }
        let states = try Self.statePerEnvironmentInPostgres(repo)
        defer { states.values.forEach(Self.drop) }
        let key = try Self.newKey(repo)

        // Runner A cuts the release and promotes it through dev and stage; prod stops at its gate.
        let a = try Self.runner(repo, "runner-a", database: database, key: key)
        let released = try a.run("release", "--pr", "7")
        #expect(released.status == 0, "\(released.stderr)")
        let release = released.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for env in ["dev", "stage"] {
            let promoted = try a.run("promote", release, "--to", env)
            #expect(promoted.status == 0, "\(promoted.stderr)")
        }
        let waiting = try a.run("promote", release, "--to", "prod", "--format", "json")
        #expect(waiting.status == 3)
        let network = try #require(try waiting.jsonArray().last?["plan"] as? String)

        // An approver's laptop, another clone, finds the plan and signs it.
        let laptop = try Self.runner(repo, "laptop", database: database, key: key)
        let shown = try laptop.run("show", network)
        #expect(shown.status == 0, "\(shown.stderr)")
        let approved = try laptop.run("approve", network, "--key", repo.key("approver"))
        #expect(approved.status == 0, "\(approved.stderr)")

        // Runner C applies: the exact plan file made on runner A, read back from the team store.
        let c = try Self.runner(repo, "runner-c", database: database, key: key)
        let applied = try c.run("apply", network)
        #expect(applied.status == 0, "\(applied.stderr)")
        let app = try c.run("plan", release, "--env", "prod", "--stack", "app", "--format", "json")
        let appPlan = try #require(try app.jsonArray().first?["id"] as? String)
        #expect(try laptop.run("approve", appPlan, "--key", repo.key("approver")).status == 0)
        let promoted = try c.run("promote", release, "--to", "prod")
        #expect(promoted.status == 0, "\(promoted.stderr)")

        // Runner D verifies the chain and reads the history; it has no local record at all.
        let d = try Self.runner(repo, "runner-d", database: database, key: key)
        let verified = try d.run("audit", "verify", "--format", "json")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(try verified.json()["intact"] as? Bool == true)
        let history = try d.run("history", "--env", "prod", "--format", "json")
        let entries = try #require(try history.json()["entries"] as? [[String: Any]])
        #expect(try history.json()["source"] as? String == "ledger")
        #expect(entries.map { $0["stack"] as? String } == ["network", "app"])
        #expect(entries.allSatisfy { $0["approvers"] as? [String] == ["approver@example.com"] && $0["outcome"] as? String == "success" })
        let status = try d.run("status", "--format", "json")
        let cells = try #require(try status.json()["cells"] as? [[String: Any]])
        #expect(cells.filter { ($0["applied"] as? [String: Any])?["release"] as? String == release }.count == 6)
        for name in ["runner-a", "laptop", "runner-c", "runner-d"] {
            #expect(!FileManager.default.fileExists(atPath: "\(repo.root)/\(name)/.tollgate/ledger.sqlite"), "\(name) wrote a local ledger")
            #expect(!FileManager.default.fileExists(atPath: "\(repo.root)/\(name)/.tollgate/artifacts"), "\(name) wrote local artifacts")
        }
        // The state is in PostgreSQL, one schema per stack in each environment's database, and
        // nowhere on the runners' disks.
        for env in ["dev", "stage", "prod"] {
            for stack in ["network", "app"] {
                #expect(try Self.stateRows(try #require(states[env]), stack: stack) == 1, "\(env)/\(stack)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: repo.root + "/repo-state"))
    }

    @Test(.enabled(if: server != nil || required)) func teamModeNeedsAKeyAndNeverPrintsThePassword() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let database = try Self.database()
        defer { Self.drop(database) }
        var cli = try Self.runner(repo, "runner", database: database, key: "")
        cli.environment["TOLLGATE_ARTIFACT_KEY"] = nil
        let keyless = try cli.run("status")
        #expect(keyless.status == 1)
        #expect(keyless.stderr == "tollgate: error: team mode needs an artifact key: plan files hold variable values, secrets included, and are stored in the team database; set the environment variable TOLLGATE_ARTIFACT_KEY to 32 random bytes in base64 ('tollgate ledger new-key' makes one), or set 'store.encrypt_artifacts: false' to store them in the clear\n")
        // A wrong password: a clear error naming the server, never the password.
        let wrong = database.replacingOccurrences(of: ":" + (database.components(separatedBy: "@")[0].components(separatedBy: ":").last ?? ""), with: ":not-the-password-0417")
        cli.environment["TOLLGATE_DATABASE_URL"] = wrong
        cli.environment["TOLLGATE_ARTIFACT_KEY"] = try repo.cli.run("ledger", "new-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try cli.run("status")
        #expect(refused.status == 1)
        #expect(!refused.stderr.contains("not-the-password-0417"), "\(refused.stderr)")
        #expect(refused.stderr.contains("127.0.0.1"), "\(refused.stderr)")
    }

    @Test(.enabled(if: server != nil || required)) func doctorChecksTheServerTheRightsAndTLS() throws {
        try Self.withTeam { repo, database, key in
            let cli = try Self.runner(repo, "runner", database: database, key: key)
            func rows() throws -> [String: (status: String, detail: String, fix: String?)] {
                let checks = try cli.run("doctor", "--format", "json").json()["checks"] as? [[String: Any]] ?? []
                return Dictionary(uniqueKeysWithValues: checks.map {
                    ($0["check"] as? String ?? "", ($0["status"] as? String ?? "", $0["detail"] as? String ?? "", $0["fix"] as? String))
                })
            }
            var found = try rows()
            #expect(found["team ledger"]?.status == "ok")
            #expect(found["team ledger"]?.detail.hasSuffix("(from TOLLGATE_DATABASE_URL), schema version 3 of 3") == true, "\(found)")
            #expect(found["ledger rights"]?.status == "ok")
            #expect(found["ledger TLS"]?.status == "warn")
            #expect(found["ledger TLS"]?.detail == "the connection is not encrypted (sslmode=disable)")
            #expect(found["artifact key"]?.status == "ok")
            #expect(found.values.allSatisfy { !$0.detail.contains(":tollgate@") })
            // A role that cannot record approvals or move a lock is named, with the grant that fixes it.
            try PromotionRepo.shell("psql -q -v ON_ERROR_STOP=1 '\(database)' -c 'REVOKE INSERT ON approvals FROM CURRENT_USER' -c 'REVOKE DELETE ON locks FROM CURRENT_USER'")
            found = try rows()
            #expect(found["ledger rights"]?.status == "fail")
            #expect(found["ledger rights"]?.detail == "the role lacks INSERT on approvals, DELETE on locks")
            #expect(found["ledger rights"]?.fix?.hasPrefix("as the schema's owner: GRANT SELECT, INSERT, UPDATE, DELETE") == true)
            #expect(try cli.run("doctor").status == 1)
        }
    }

    @Test(.enabled(if: server != nil || required)) func gcKeepsEveryArtifactARecordNames() throws {
        try Self.withTeam { repo, database, key in
            let cli = try Self.runner(repo, "runner", database: database, key: key)
            let release = try cli.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(try cli.run("plan", release, "--env", "dev", "--stack", "network").status == 0)
            // One artifact no record names, as a command killed between storing and recording leaves it.
            let orphan = "sha256:" + String(repeating: "e", count: 64)
            try PromotionRepo.shell("psql -q -v ON_ERROR_STOP=1 '\(database)' -c \"INSERT INTO artifacts (id, size, chunks, stored_at) VALUES ('\(orphan)', 0, 0, 0)\" -c 'UPDATE artifacts SET stored_at = 0'")
            let preview = try cli.run("ledger", "gc", "--dry-run", "--format", "json")
            #expect(preview.status == 0, "\(preview.stderr)")
            #expect(try preview.json()["removed"] as? [String] == [orphan])
            #expect(try preview.json()["kept"] as? Int == 3)
            let collected = try cli.run("ledger", "gc", "--older-than", "7d")
            #expect(collected.status == 0 && collected.stdout == orphan + "\n", "\(collected.stderr)")
            #expect(collected.stderr.hasSuffix("removed 1 unreferenced artifacts (0 bytes) stored over 7d ago; 3 kept\n"), "\(collected.stderr)")
            // The release and the plan still apply from the team store, and the removal is on the record.
            let plan = try #require(try cli.run("plan", release, "--env", "dev", "--stack", "network", "--format", "json").jsonArray().first?["id"] as? String)
            #expect(try cli.run("apply", plan).status == 0)
            let kinds = try cli.run("audit", "export").stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["kind"] as? String
            }
            #expect(kinds.filter { $0 == "artifacts.collected" }.count == 1)
            #expect(try cli.run("audit", "verify").status == 0)
            // A grace period shorter than a command may run is a usage error; the embedded store says what it does.
            #expect(try cli.run("ledger", "gc", "--older-than", "5m").status == 64)
            let embedded = try repo.cli.run("ledger", "gc")
            #expect(embedded.status == 1 && embedded.stderr.contains("'ledger gc' collects the team database's artifacts"), "\(embedded.stderr)")
        }
    }

    @Test(.enabled(if: server != nil || required)) func eightRunnersRaceToApplyOnePlanAndTheEngineAppliesOnce() throws {
        try Self.withTeam { repo, database, key in
            let a = try Self.runner(repo, "runner-0", database: database, key: key)
            let release = try a.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let planned = try a.run("plan", release, "--env", "dev", "--stack", "network", "--format", "json")
            let plan = try #require(try planned.jsonArray().first?["id"] as? String)
            let runners = try (1...8).map { try Self.runner(repo, "runner-\($0)", database: database, key: key) }
            let results = Results()
            DispatchQueue.concurrentPerform(iterations: runners.count) { index in
                let outcome = (try? runners[index].run("apply", plan)) ?? CLI.Result(status: -1, stdout: "", stderr: "did not run")
                results.add(outcome)
            }
            let all = results.all
            #expect(all.filter { $0.status == 0 }.count == 1, "\(all.map { "\($0.status): \($0.stderr)" })")
            // The others were refused (exit 3): the lock was held, or the plan was already applied.
            let refused = all.filter { $0.status != 0 }
            #expect(refused.allSatisfy { $0.status == 3 }, "\(refused.map { "\($0.status): \($0.stderr)" })")
            #expect(refused.allSatisfy { $0.stderr.contains("is locked by ci-runner-") || $0.stderr.contains("plan '\(plan)' is applied and can never be applied") },
                    "\(refused.map(\.stderr))")
            // The engine ran exactly once: one successful apply on the record; a runner that took the lock
            // after it finished was refused under the lock by the plan's status, never by the engine.
            let history = try a.run("history", "--env", "dev", "--format", "json")
            let entries = try #require(try history.json()["entries"] as? [[String: Any]])
            #expect(entries.filter { $0["outcome"] as? String == "success" }.count == 1, "\(entries)")
            #expect(entries.filter { $0["outcome"] as? String != "success" }.allSatisfy {
                ($0["detail"] as? String ?? "").hasPrefix("refused: plan '\(plan)' is applied and can never be applied")
            }, "\(entries)")
            let kinds = try a.run("audit", "export").stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["kind"] as? String
            }
            #expect(kinds.filter { $0 == "refused" }.count == 7)
            #expect(try a.run("audit", "verify").status == 0)
        }
    }

    @Test(.enabled(if: server != nil || required)) func aKilledRunnersLeaseExpiresAndNothingIsLost() throws {
        try Self.withTeam { repo, database, key in
            // The resource is slow only while the flag file exists, so the recovery below is quick.
            let marker = "300.\(Int.random(in: 10_000_000...99_999_999))"
            let flag = repo.root + "/slow"
            _ = FileManager.default.createFile(atPath: flag, contents: Data())
            try repo.edit("stacks/app/main.tf", commit: "a slow resource") { $0 + """

                resource "null_resource" "slow" {
                  provisioner "local-exec" {
                    command = "if [ -f \(flag) ]; then sleep \(marker); fi; true"
                  }
                }

                """ }
            var a = try Self.runner(repo, "runner-a", database: database, key: key)
            a.environment["TOLLGATE_LEASE_SECONDS"] = "3"
            let release = try a.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let planned = try a.run("plan", release, "--env", "dev", "--stack", "app", "--format", "json")
            let plan = try #require(try planned.jsonArray().first?["id"] as? String)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["apply", plan]
            process.currentDirectoryURL = URL(fileURLWithPath: a.directory)
            process.environment = a.environment
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            var started = false
            for _ in 0..<1200 where !started {
                usleep(100_000)
                started = Self.processes(matching: marker).count > 0
            }
            #expect(started, "the slow provisioner never started")
            // kill -9: no handler runs, the lease is simply no longer renewed. The runner's machine is
            // gone with it: its engine and the provisioner die too.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            for pid in Self.processes(matching: a.directory + "/.tollgate/work") + Self.processes(matching: marker) { kill(pid, SIGKILL) }
            try FileManager.default.removeItem(atPath: flag)

            let b = try Self.runner(repo, "runner-b", database: database, key: key)
            try Self.recoverDevApp(b, release: release, reason: "runner killed")
        }
    }

    @Test(.enabled(if: server != nil || required)) func theServerStoppingMidApplyIsAClearErrorAndNothingIsLost() throws {
        let repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        let postgres = try PrivatePostgres()
        defer { postgres.remove() }
        let database = postgres.url + "&connect_timeout=2"
        let key = try Self.newKey(repo)
        // The resource's provisioner stops the ledger's server in the middle of the apply (only while
        // the flag file exists, so the recovery below does not stop it again).
        let flag = repo.root + "/halt"
        _ = FileManager.default.createFile(atPath: flag, contents: Data())
        try repo.edit("stacks/app/main.tf", commit: "a resource that stops the ledger's server") { $0 + """

            resource "null_resource" "halt" {
              provisioner "local-exec" {
                command = "if [ -f \(flag) ]; then \(postgres.haltCommand.replacingOccurrences(of: "'", with: "")); fi; true"
              }
            }

            """ }
        var a = try Self.runner(repo, "runner-a", database: database, key: key)
        a.environment["TOLLGATE_LEASE_SECONDS"] = "4"
        let release = try a.run("release").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let plan = try #require(try a.run("plan", release, "--env", "dev", "--stack", "app", "--format", "json").jsonArray().first?["id"] as? String)
        let applied = try a.run("apply", plan)
        // A clear error naming the server (never the password), not a hang or a crash.
        #expect(applied.status == 1, "\(applied.stdout) \(applied.stderr)")
        let named = database.replacingOccurrences(of: ":tollgate@", with: ":***@")
        #expect(applied.stderr.contains("tollgate: error: the engine applied plan '\(plan)' to dev/app, but its outcome could not be recorded: cannot use the PostgreSQL ledger at '\(named)'")
                || applied.stderr.contains("lost its lock on 'dev/app'"), "\(applied.stderr)")
        #expect(!applied.stderr.contains(":tollgate@") && !applied.stderr.contains("Fatal error"), "\(applied.stderr)")
        let away = try a.run("status")
        #expect(away.status == 1 && away.stderr.contains(named), "\(away.stderr)")

        // The server comes back: the ledger holds the apply as started, its lease runs out, and
        // unlock and a re-plan recover with the chain intact.
        try postgres.resume()
        try FileManager.default.removeItem(atPath: flag)
        let b = try Self.runner(repo, "runner-b", database: database, key: key)
        try Self.recoverDevApp(b, release: release, reason: "ledger server restarted")
    }

    @Test(.enabled(if: server != nil || required)) func theEmbeddedLedgerMovesUpIntact() throws {
        var repo = try PromotionRepo(engine: TestEngines.all[0])
        defer { repo.remove() }
        try repo.promote("dev")
        let before = try repo.cli.run("audit", "export").stdout
        let embeddedVerify = try repo.cli.run("audit", "verify", "--format", "json").json()
        let embeddedHistory = try repo.cli.run("history", "--env", "dev", "--format", "json").stdout
        let database = try Self.database()
        defer { Self.drop(database) }
        repo.cli.environment["TOLLGATE_ARTIFACT_KEY"] = try repo.cli.run("ledger", "new-key").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let migrated = try repo.cli.run("ledger", "migrate", "--to", database, "--format", "json")
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let report = try migrated.json()
        #expect(report["events"] as? Int == embeddedVerify["events"] as? Int)
        #expect(report["head"] as? String == embeddedVerify["head"] as? String)
        #expect((report["artifacts"] as? Int ?? 0) >= 3)
        // The source is untouched, and a second migration into the same database is refused.
        #expect(try repo.cli.run("audit", "export").stdout == before)
        let again = try repo.cli.run("ledger", "migrate", "--to", database)
        #expect(again.status == 1)
        #expect(again.stderr.contains("migrate only into an empty database"), "\(again.stderr)")
        // The team ledger now answers the same: the chain, and the history.
        repo.cli.environment["TOLLGATE_DATABASE_URL"] = database
        let teamVerify = try repo.cli.run("audit", "verify", "--format", "json")
        #expect(teamVerify.status == 0, "\(teamVerify.stdout) \(teamVerify.stderr)")
        #expect(try teamVerify.json()["events"] as? Int == embeddedVerify["events"] as? Int)
        #expect(try repo.cli.run("history", "--env", "dev", "--format", "json").stdout == embeddedHistory)
        // And it carries on: stage is promoted from the team ledger, the order rule reading dev's applies there.
        let stage = try repo.cli.run("promote", repo.release, "--to", "stage")
        #expect(stage.status == 0, "\(stage.stderr)")
    }

    /// After a runner died mid-apply of dev/app: its lease shows expired, `unlock` releases it, the
    /// attempt is on the record as interrupted, the chain is intact, and a re-plan applies.
    static func recoverDevApp(_ b: CLI, release: String, reason: String) throws {
        #expect(try waitForExpiredLease(b, env: "dev", stack: "app"), "the lost runner's lease never showed as expired")
        let unlocked = try b.run("unlock", "dev", "app", "--reason", reason)
        #expect(unlocked.status == 0, "\(unlocked.stderr)")
        let history = try b.run("history", "--env", "dev", "--stack", "app", "--format", "json")
        #expect((try history.json()["entries"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["interrupted"])
        let verified = try b.run("audit", "verify")
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        let replanned = try b.run("plan", release, "--env", "dev", "--stack", "app", "--format", "json")
        let again = try #require(try replanned.jsonArray().first?["id"] as? String, "\(replanned.stderr)")
        let applied = try b.run("apply", again)
        #expect(applied.status == 0, "\(applied.stderr)")
    }

    /// Polls `status` until the (env, stack) lock shows its lease expired (its holder gone), for up to 20 s.
    static func waitForExpiredLease(_ cli: CLI, env: String, stack: String) throws -> Bool {
        for _ in 0..<100 {
            usleep(200_000)
            let cells = try cli.run("status", "--format", "json").json()["cells"] as? [[String: Any]] ?? []
            let lock = cells.first { $0["env"] as? String == env && $0["stack"] as? String == stack }?["lock"] as? [String: Any]
            if lock?["holder_gone"] as? Bool == true { return true }
        }
        return false
    }

    static func processes(matching marker: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }.compactMap { entry in
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                  String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(marker) else { return nil }
            return Int32(entry)
        }
    }
}

/// Outcomes collected from threads.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [CLI.Result] = []

    func add(_ result: CLI.Result) {
        lock.lock()
        items.append(result)
        lock.unlock()
    }

    var all: [CLI.Result] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
