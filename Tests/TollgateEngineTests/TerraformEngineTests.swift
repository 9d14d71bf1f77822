import Foundation
import TestSupport
import Testing
import TollgateCore
import TollgateEngine

/// The adapter against the real engines (every one scripts/setup-engine.sh provides).
@Suite(.serialized) struct TerraformEngineTests {
    static let versions = """
        terraform {
          backend "local" {}
          required_providers {
            null = {
              source  = "hashicorp/null"
              version = "2.1.2"
            }
          }
        }

        """

    struct Setup {
        let directory: TemporaryDirectory
        let engine: TerraformEngine
        let workspace: EngineWorkspace
        let backend: [(key: String, value: BackendValue)]
    }

    func setup(_ binary: String, main: String, label: String) async throws -> Setup {
        let directory = try TemporaryDirectory("tollgate-engine-\(label)")
        try directory.write("stack/versions.tf", Self.versions)
        try directory.write("stack/main.tf", main)
        let environment = ProcessInfo.processInfo.environment
        let info = try await EngineLocator(environment: ["TOLLGATE_ENGINE": binary, "PATH": environment["PATH"] ?? ""])
            .locate(EngineSpec(), baseDirectory: directory.path)
        let settings = EngineSettings(cacheDirectory: directory.path + "/cache", providerMirror: TestEngines.mirror)
        let engine = TerraformEngine(info: info, settings: settings, environment: environment,
                                     runner: ProcessRunner(gracePeriod: .seconds(10), scratchDirectory: directory.path))
        let workspace = EngineWorkspace(directory: directory.path + "/stack", dataDirectory: directory.path + "/data")
        return Setup(directory: directory, engine: engine, workspace: workspace,
                     backend: [("path", .string(directory.path + "/state/terraform.tfstate"))])
    }

    /// Stacks are planned side by side: their inits must not race to fill the empty plugin cache.
    @Test(arguments: TestEngines.all) func initsAtOnceShareAnEmptyPluginCache(binary: String) async throws {
        let setup = try await setup(binary, main: "resource \"null_resource\" \"a\" {}\n", label: "inits")
        defer { setup.directory.remove() }
        let second = EngineWorkspace(directory: setup.directory.path + "/stack", dataDirectory: setup.directory.path + "/data-2")
        let other: [(key: String, value: BackendValue)] = [("path", .string(setup.directory.path + "/state/other.tfstate"))]
        async let first: Void = setup.engine.initialize(setup.workspace, backend: setup.backend)
        async let next: Void = setup.engine.initialize(second, backend: other)
        _ = try await (first, next)
        #expect(FileManager.default.fileExists(atPath: setup.directory.path + "/cache/plugin-cache/registry.terraform.io/hashicorp/null/2.1.2"))
    }

    @Test func thereAreEnginesToTest() {
        #expect(!TestEngines.all.isEmpty, "no engine found: run scripts/setup-engine.sh or set TOLLGATE_TEST_ENGINES")
    }

    @Test(arguments: TestEngines.all) func locatesAndChecksTheVersion(binary: String) async throws {
        let locator = EngineLocator(environment: ["TOLLGATE_ENGINE": binary])
        let version = try await locator.version(of: binary)
        #expect(version >= Version([1, 0, 0]))
        let spec = EngineSpec(version: Located(try #require(VersionConstraint(parsing: "< \(version)"))))
        await #expect(throws: EngineError.self) { try await locator.locate(spec, baseDirectory: "/") }
        do {
            _ = try await locator.locate(spec, baseDirectory: "/")
        } catch {
            #expect("\(error)".contains("no engine satisfies the pipeline's version constraint '< \(version)'"))
            #expect("\(error)".contains("\(binary) is \(version)"))
        }
    }

    @Test func missingBinaryIsAClearError() async throws {
        let locator = EngineLocator(environment: ["PATH": "/nonexistent"])
        await #expect(throws: EngineError.notFound(binary: "tofu", searched: ["PATH"])) {
            try await locator.locate(EngineSpec(binary: .tofu), baseDirectory: "/")
        }
    }

    @Test(arguments: TestEngines.all) func initPlanShowApplyRoundTrip(binary: String) async throws {
        let main = """
            variable "size" {
              type = number
            }

            resource "null_resource" "a" {
              count = var.size
              triggers = {
                index = count.index
              }
            }

            """
        let setup = try await setup(binary, main: main, label: "roundtrip")
        defer { setup.directory.remove() }
        try setup.directory.write("vars/dev.tfvars", "size = 2\n")
        try await setup.engine.initialize(setup.workspace, backend: setup.backend)
        // The generated backend config file is what init was given.
        let backendFile = setup.directory.read("data/backend.tfbackend")
        #expect(backendFile == "path = \"\(setup.directory.path)/state/terraform.tfstate\"\n")
        // Providers come through tollgate's own CLI config (mirror + plugin cache).
        #expect(setup.directory.read("cache/terraform.tfrc")?.contains("filesystem_mirror") == true)

        let planFile = setup.directory.path + "/plan.tfplan"
        let changes = try await setup.engine.plan(setup.workspace, planFile: planFile, varFiles: [setup.directory.path + "/vars/dev.tfvars"])
        #expect(changes)
        let summary = PlanSummary(try PlanJSON.decode(try await setup.engine.showJSON(setup.workspace, planFile: planFile)))
        #expect(summary.create == ["null_resource.a[0]", "null_resource.a[1]"])

        try await setup.engine.apply(setup.workspace, planFile: planFile)
        #expect(FileManager.default.fileExists(atPath: setup.directory.path + "/state/terraform.tfstate"))
        let again = try await setup.engine.plan(setup.workspace, planFile: planFile, varFiles: [setup.directory.path + "/vars/dev.tfvars"])
        #expect(!again)
    }

    @Test(arguments: TestEngines.all) func formatAndValidate(binary: String) async throws {
        let setup = try await setup(binary, main: "resource \"null_resource\" \"a\" {\ntriggers = {   x = \"1\" }\n}\n", label: "fmt")
        defer { setup.directory.remove() }
        try await setup.engine.initialize(setup.workspace, backend: setup.backend)
        #expect(try await setup.engine.formatCheck(setup.workspace) == ["main.tf"])
        #expect(try await setup.engine.validate(setup.workspace).valid)

        try setup.directory.write("stack/main.tf", "resource \"null_resource\" \"a\" {\n  triggers = { x = var.missing }\n}\n")
        #expect(try await setup.engine.formatCheck(setup.workspace).isEmpty)
        let validation = try await setup.engine.validate(setup.workspace)
        #expect(!validation.valid)
        let diagnostic = try #require(validation.diagnostics.first)
        #expect(diagnostic.message.contains("Reference to undeclared input variable"))
        #expect(diagnostic.location?.file == "main.tf")
        #expect(diagnostic.location?.line == 2)
    }

    @Test(arguments: TestEngines.all) func failureCarriesCommandStatusAndStderr(binary: String) async throws {
        let setup = try await setup(binary, main: "variable \"needed\" {\n  type = string\n}\n", label: "failure")
        defer { setup.directory.remove() }
        try await setup.engine.initialize(setup.workspace, backend: setup.backend)
        do {
            _ = try await setup.engine.plan(setup.workspace, planFile: setup.directory.path + "/p", varFiles: [])
            Issue.record("plan without a required variable should fail")
        } catch EngineError.processFailed(let failure) {
            #expect(failure.command.hasPrefix("terraform plan -input=false -no-color"))
            #expect(failure.status == 1)
            #expect(failure.stderrTail.contains("No value for required variable"))
            #expect(failure.directory == setup.workspace.directory)
            #expect("\(EngineError.processFailed(failure))".contains("exited with status 1"))
        }
    }

    @Test(arguments: TestEngines.all) func cancellingAnApplyStopsTheEngineAndItsChildren(binary: String) async throws {
        // The sleep's own argument, so the shell and the sleep both carry it (a shell may exec its last command).
        let marker = "300.\(Int.random(in: 10_000_000...99_999_999))"
        let main = """
            resource "null_resource" "slow" {
              provisioner "local-exec" {
                command = "sleep \(marker); true"
              }
            }

            """
        let setup = try await setup(binary, main: main, label: "cancel")
        defer { setup.directory.remove() }
        try await setup.engine.initialize(setup.workspace, backend: setup.backend)
        let planFile = setup.directory.path + "/plan.tfplan"
        _ = try await setup.engine.plan(setup.workspace, planFile: planFile, varFiles: [])
        let engine = setup.engine
        let workspace = setup.workspace
        let apply = Task { try await engine.apply(workspace, planFile: planFile) }
        // Wait until the provisioner's sleep is running, then cancel as Ctrl-C would.
        var running = false
        for _ in 0..<1200 where !running {
            // A blocking wait: an awaited sleep can starve for minutes when the whole suite runs at once.
            usleep(100_000)
            running = try processCount(matching: marker) > 0
        }
        #expect(running, "the provisioner never started")
        apply.cancel()
        await #expect(throws: EngineError.self) { try await apply.value }
        #expect(try processCount(matching: marker) == 0, "a child of the engine outlived the cancelled run")
    }

    /// Processes whose command line contains `marker` (from /proc, so no pgrep is needed).
    func processCount(matching marker: String) throws -> Int {
        var count = 0
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") where entry.allSatisfy(\.isNumber) {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let commandLine = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            if commandLine.contains(marker) { count += 1 }
        }
        return count
    }
}

@Suite struct ProcessRunnerTests {
    @Test func capturesOutputAndStatus() async throws {
        let output = try await ProcessRunner().run("/bin/sh", ["-c", "echo out; echo err >&2; exit 7"], environment: [:])
        #expect(output.status == 7)
        #expect(output.stdoutText == "out\n")
        #expect(output.stderrText == "err\n")
    }

    @Test func largeOutputDoesNotDeadlock() async throws {
        let output = try await ProcessRunner().run("/bin/sh", ["-c", "head -c 5000000 /dev/zero"], environment: [:])
        #expect(output.stdout.count == 5_000_000)
    }

    @Test func launchFailureNamesTheCommand() async {
        await #expect(throws: EngineError.launchFailed(command: "/nonexistent/terraform version", reason: "")) {
            do {
                _ = try await ProcessRunner().run("/nonexistent/terraform", ["version"], environment: [:])
            } catch EngineError.launchFailed(let command, _) {
                throw EngineError.launchFailed(command: command, reason: "")
            }
        }
    }

    @Test func quotesForPasting() {
        #expect(ProcessRunner.quote("-out=/tmp/plan") == "-out=/tmp/plan")
        #expect(ProcessRunner.quote("a b") == "'a b'")
        #expect(ProcessRunner.quote("it's") == "'it'\\''s'")
    }

    @Test func backendConfigIsTypedHCL() {
        let text = TerraformEngine.backendConfigText([("bucket", .string("a\"b")), ("encrypt", .bool(true)), ("port", .integer(5432))])
        #expect(text == "bucket = \"a\\\"b\"\nencrypt = true\nport = 5432\n")
    }

    @Test func environmentIsTollgatesOwn() {
        let info = EngineInfo(kind: "terraform", path: "/bin/true", version: Version([1, 11, 4]))
        let engine = TerraformEngine(info: info, settings: EngineSettings(cacheDirectory: "/c"),
                                     environment: ["TF_VAR_leak": "x", "TF_CLI_ARGS_plan": "-destroy", "HOME": "/root", "TF_CLI_CONFIG_FILE": "/root/.terraformrc"])
        let env = engine.environment(for: EngineWorkspace(directory: "/w", dataDirectory: "/d", variables: ["TF_VAR_db": "s3cret"]))
        #expect(env["TF_VAR_leak"] == nil)
        #expect(env["TF_CLI_ARGS_plan"] == nil)
        #expect(env["TF_VAR_db"] == "s3cret")
        #expect(env["TF_DATA_DIR"] == "/d")
        #expect(env["TF_IN_AUTOMATION"] == "1")
        #expect(env["TF_CLI_CONFIG_FILE"] == "/c/terraform.tfrc")
        #expect(env["HOME"] == "/root")
    }
}
