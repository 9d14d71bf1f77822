import Foundation
import TestSupport
import Testing

/// The built binary on a real engine: init --example → validate → doctor → plan.
@Suite(.serialized) struct FoundationFlowTests {
    @Test func enginesAreAvailable() {
        #expect(!TestEngines.all.isEmpty, "no engine found: run scripts/setup-engine.sh or set TOLLGATE_TEST_ENGINES")
    }

    @Test(arguments: TestEngines.all) func exampleFromInitToPlan(engine: String) throws {
        let sandbox = try Sandbox(engine: engine)
        defer { sandbox.remove() }
        let cli = sandbox.cli

        let initialised = try cli.run("init", "--example", "--format", "json")
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let files = try initialised.json()["files"] as? [String] ?? []
        #expect(files.contains("stacks/network/main.tf") && files.contains("config/prod/app.tfvars"))
        try cli.git("init", "-q")
        try cli.git("add", "-A")
        try cli.git("commit", "-q", "-m", "example")

        let validated = try cli.run("validate", "--format", "json")
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")
        #expect(try validated.json()["valid"] as? Bool == true)

        let doctor = try cli.run("doctor", "--format", "json")
        #expect(doctor.status == 0, "\(doctor.stdout)\(doctor.stderr)")
        let checks = try doctor.json()["checks"] as? [[String: Any]] ?? []
        let statuses = Dictionary(uniqueKeysWithValues: checks.map { ($0["check"] as? String ?? "", $0["status"] as? String ?? "") })
        #expect(statuses["engine"] == "ok")
        #expect(statuses["git"] == "ok")
        #expect(statuses["store"] == "ok")
        #expect(statuses["providers"] == "ok")
        let engineDetail = checks.first { $0["check"] as? String == "engine" }?["detail"] as? String ?? ""
        #expect(engineDetail.contains(engine))
        // A malformed allowed_signers line is named by file and line (it would match no key).
        let signers = sandbox.repository + "/.tollgate/allowed_signers"
        let original = try Data(contentsOf: URL(fileURLWithPath: signers))
        try Data((String(decoding: original, as: UTF8.self) + "ops@example.com namespaces=tollgate ssh-ed25519 AAAA\n").utf8).write(to: URL(fileURLWithPath: signers))
        let broken = try cli.run("doctor", "--format", "json")
        #expect(broken.status == 1)
        let row = (try broken.json()["checks"] as? [[String: Any]] ?? []).first { $0["check"] as? String == "allowed_signers" }
        #expect(row?["status"] as? String == "fail")
        let detail = row?["detail"] as? String
        #expect(detail == ".tollgate/allowed_signers:3: the key after the options is not a valid public key; copy the key type and key from the '.pub' file")
        try original.write(to: URL(fileURLWithPath: signers))

        let released = try cli.run("release", "--format", "json")
        #expect(released.status == 0, "\(released.stderr)")
        let release = try #require(try released.json()["id"] as? String)
        let planned = try cli.run("plan", release, "--env", "dev", "--format", "json")
        #expect(planned.status == 0, "\(planned.stderr)")
        let plans = try planned.jsonArray()
        #expect(plans.map { $0["stack"] as? String } == ["network", "app"])
        let network = try #require(plans.first)
        let created = (network["summary"] as? [String: Any])?["create"] as? [String]
        #expect(created == ["module.vpc.null_resource.subnet[0]", "module.vpc.null_resource.vpc"])
        #expect(network["release_id"] as? String == release)
        let digest = try #require(network["digest"] as? String)
        // The plan file is in the artifact store under its digest; the live tree was never used.
        let hex = digest.dropFirst(7)
        #expect(FileManager.default.fileExists(atPath: sandbox.repository + "/.tollgate/artifacts/sha256/\(hex.prefix(2))/\(hex)"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.repository + "/stacks/network/.terraform"))

        let text = try cli.run("plan", release, "--env", "dev", "--stack", "app")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("dev/app  1 to create, 0 to update, 0 to replace, 0 to delete"))
    }
}

/// Bad input and refusals: clear messages and the documented exit codes.
@Suite(.serialized) struct ExitCodeTests {
    func sandbox() throws -> Sandbox {
        let sandbox = try Sandbox(engine: TestEngines.all.first, label: "tollgate-exit")
        let result = try sandbox.cli.run("init", "--example")
        guard result.status == 0 else { throw TestSupportError("init failed: \(result.stderr)") }
        try sandbox.cli.git("init", "-q")
        try commit(sandbox)
        return sandbox
    }

    func commit(_ sandbox: Sandbox) throws {
        try sandbox.cli.git("add", "-A")
        try sandbox.cli.git("commit", "-q", "--allow-empty", "-m", "change")
    }

    func release(_ sandbox: Sandbox) throws -> String {
        let result = try sandbox.cli.run("release")
        guard result.status == 0 else { throw TestSupportError("release failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func edit(_ sandbox: Sandbox, _ old: String, _ new: String) throws {
        let path = sandbox.repository + "/tollgate.yaml"
        let text = String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        guard text.contains(old) else { throw TestSupportError("tollgate.yaml has no \(old)") }
        try Data(text.replacingOccurrences(of: old, with: new).utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func invalidPipelineIsExitOneWithLocations() throws {
        let sandbox = try sandbox()
        defer { sandbox.remove() }
        try edit(sandbox, "main_branch: main", "main_brach: main")
        let result = try sandbox.cli.run("validate")
        #expect(result.status == 1)
        #expect(result.stderr.contains("tollgate.yaml:9:1: error: unknown key 'main_brach' in the pipeline file; did you mean 'main_branch'?"))
        let json = try sandbox.cli.run("validate", "--format", "json")
        #expect(json.status == 1)
        let diagnostics = try json.json()["diagnostics"] as? [[String: Any]] ?? []
        let location = diagnostics.first?["location"] as? [String: Any]
        #expect(location?["line"] as? Int == 9)
        #expect(location?["column"] as? Int == 1)
        // Commands that need a valid pipeline refuse to start.
        let plan = try sandbox.cli.run("plan", "sha256:abc", "--env", "dev")
        #expect(plan.status == 1)
        #expect(plan.stderr.contains("unknown key 'main_brach'"))
    }

    @Test func usageErrorIsExit64() throws {
        let sandbox = try sandbox()
        defer { sandbox.remove() }
        let result = try sandbox.cli.run("plan", "--env", "dev")
        #expect(result.status == 64)
        #expect(result.stderr.contains("Missing expected argument '<release>' (or pass --preview to plan a commit without cutting a release)"))
        #expect(try sandbox.cli.run("plan").status == 64)
        #expect(try sandbox.cli.run("frobnicate").status == 64)
        #expect(try sandbox.cli.run("validate", "--format", "yaml").status == 64)
    }

    @Test func identityMismatchIsARefusal() throws {
        let sandbox = try sandbox()
        defer { sandbox.remove() }
        try edit(sandbox, "identity: echo local-dev", "identity: echo local-prod")
        try commit(sandbox)
        let release = try release(sandbox)
        let result = try sandbox.cli.run("plan", release, "--env", "dev")
        #expect(result.status == 3)
        #expect(result.stderr.contains("tollgate: refused: identity guard refused environment 'dev': 'echo local-prod' printed 'local-prod', but the pipeline declares account 'local-dev'"))
        let json = try sandbox.cli.run("plan", release, "--env", "dev", "--format", "json")
        #expect(json.status == 3)
        // The error is a JSON object on stderr; stdout holds results only.
        #expect(json.stdout == "")
        let failure = try JSONSerialization.jsonObject(with: Data(json.stderr.utf8)) as? [String: Any]
        #expect(failure?["refused"] as? Bool == true)
        #expect(failure?["exit_code"] as? Int == 3)
        #expect((failure?["error"] as? String)?.hasPrefix("identity guard refused environment 'dev'") == true, "\(json.stderr)")
    }

    @Test func unknownEnvironmentSuggests() throws {
        let sandbox = try sandbox()
        defer { sandbox.remove() }
        let result = try sandbox.cli.run("plan", try release(sandbox), "--env", "prdo")
        #expect(result.status == 1)
        #expect(result.stderr.contains("unknown environment 'prdo'; did you mean 'prod'?"))
    }

    @Test func missingPipelineSaysHowToCreateOne() throws {
        let root = try TemporaryDirectory("tollgate-empty")
        defer { root.remove() }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let result = try cli.run("validate", "--config", root.path + "/tollgate.yaml")
        #expect(result.status == 1)
        #expect(result.stderr.contains("no pipeline file at '\(root.path)/tollgate.yaml'; run 'tollgate init' to create one, or pass --config PATH"))
    }

    @Test func engineFailureShowsTheCommandAndStderr() throws {
        let sandbox = try sandbox()
        defer { sandbox.remove() }
        try Data("instance_count = 1\n".utf8).write(to: URL(fileURLWithPath: sandbox.repository + "/config/dev/app.tfvars"))
        // An uncommitted change is never released.
        let dirty = try sandbox.cli.run("release")
        #expect(dirty.status == 1)
        #expect(dirty.stderr.contains("uncommitted changes in deployable files (config/dev/app.tfvars)"))
        try commit(sandbox)
        let result = try sandbox.cli.run("plan", try release(sandbox), "--env", "dev", "--stack", "app")
        #expect(result.status == 1)
        #expect(result.stderr.contains("'terraform plan -input=false -no-color"))
        #expect(result.stderr.contains("exited with status 1"))
        #expect(result.stderr.contains("image_tag"))
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func engineNotFoundSaysWhatToDo() throws {
        let sandbox = try sandbox()
        defer { sandbox.remove() }
        var cli = sandbox.cli
        cli.environment["TOLLGATE_ENGINE"] = "/nonexistent/terraform"
        let result = try cli.run("plan", try release(sandbox), "--env", "dev")
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot start '/nonexistent/terraform'"))
        let doctor = try cli.run("doctor")
        #expect(doctor.status == 1)
        #expect(doctor.stdout.contains("engine"))
        #expect(doctor.stdout.contains("fail"))
    }
}
