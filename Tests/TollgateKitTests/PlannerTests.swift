import Foundation
import TestSupport
import Testing
import TollgateConfig
import TollgateCore
import TollgateKit

@Suite struct PlannerTests {
    /// The example repository written to a temp dir, with its pipeline loaded.
    func example() throws -> (TemporaryDirectory, Pipeline) {
        let directory = try TemporaryDirectory("tollgate-kit")
        try Scaffold.write(to: directory.path, example: true, force: false)
        let result = PipelineLoader.load(path: directory.path + "/tollgate.yaml")
        return (directory, try #require(result.validPipeline, "\(result.diagnostics)"))
    }

    func planner(_ pipeline: Pipeline, engine: FakeEngine, shell: FakeShell, environment: [String: String] = [:], root: String) -> Planner {
        Planner(pipeline: pipeline, engine: engine,
                identity: IdentityGuard(shell: shell, directory: pipeline.baseDirectory),
                secrets: SecretResolver(processEnvironment: environment, shell: shell, directory: pipeline.baseDirectory),
                effects: fixedEffects(), workRoot: root + "/.tollgate/work")
    }

    func emptyPlan() throws -> Data { try TestPaths.fixture("plans/terraform-1.11.4/create.json") }

    @Test func plansEveryStackInDependencyOrderInFreshWorkDirs() async throws {
        let (directory, pipeline) = try example()
        defer { directory.remove() }
        let engine = FakeEngine(planJSON: try emptyPlan())
        let plans = try await planner(pipeline, engine: engine, shell: .echoing(), root: directory.path).plan(env: "stage", source: directory.path)
        #expect(plans.map(\.stack) == ["network", "app"])
        let run = "\(directory.path)/.tollgate/work/20260921T141320-id0001/stage"
        #expect(plans.map(\.workDirectory) == ["\(run)/network/src/stacks/network", "\(run)/app/src/stacks/app"])
        // The stack and the modules it calls were copied; nothing else of the tree was.
        #expect(FileManager.default.fileExists(atPath: "\(run)/network/src/modules/vpc/main.tf"))
        #expect(!FileManager.default.fileExists(atPath: "\(run)/network/src/stacks/app"))
        let calls = await engine.calls
        let state = PathText.absolute("../\((directory.path as NSString).lastPathComponent)-state", base: directory.path)
        #expect(calls == [
            "init \(run)/network/src/stacks/network path=\(state)/stage/network.tfstate",
            "plan \(run)/network/src/stacks/network network.tfvars",
            "show \(run)/network/src/stacks/network",
            "init \(run)/app/src/stacks/app path=\(state)/stage/app.tfstate",
            "plan \(run)/app/src/stacks/app app.tfvars",
            "show \(run)/app/src/stacks/app",
        ])
        #expect(plans[0].summary.create.count == 7)
        #expect(FileManager.default.fileExists(atPath: plans[0].planJSONFile))
    }

    @Test func identityMismatchIsRefusedBeforeTheEngineRuns() async throws {
        let (directory, pipeline) = try example()
        defer { directory.remove() }
        let engine = FakeEngine(planJSON: try emptyPlan())
        let shell = FakeShell { _ in ShellResult(status: 0, stdout: "local-dev\n", stderr: "") }
        let error = await #expect(throws: KitError.self) {
            try await planner(pipeline, engine: engine, shell: shell, root: directory.path).plan(env: "prod", source: directory.path)
        }
        #expect(error == .identityMismatch(env: "prod", expected: "local-prod", actual: "local-dev", command: "echo local-prod"))
        #expect(error?.isRefusal == true)
        #expect(error?.description.contains("switch to credentials for account 'local-prod'") == true)
        #expect(await engine.calls.isEmpty)
    }

    @Test func secretsReachTheEngineOnlyAsVariables() async throws {
        let (directory, pipeline) = try example()
        defer { directory.remove() }
        var withSecrets = pipeline
        withSecrets.environments[0].secrets = [
            Secret(name: "db_password", reference: .environment("DEV_DB_PASSWORD")),
            Secret(name: "api_token", reference: .command("print-token")),
        ]
        let engine = FakeEngine(planJSON: try emptyPlan())
        let shell = FakeShell { command in
            command == "print-token" ? ShellResult(status: 0, stdout: "tok-123\n", stderr: "") : ShellResult(status: 0, stdout: "local-dev\n", stderr: "")
        }
        let plans = try await planner(withSecrets, engine: engine, shell: shell, environment: ["DEV_DB_PASSWORD": "pw-456"], root: directory.path)
            .plan(env: "dev", stacks: ["app"], source: directory.path)
        #expect(plans.map(\.stack) == ["app"])
        let seen = await engine.variablesSeen
        #expect(seen.allSatisfy { $0 == ["TF_VAR_db_password": "pw-456", "TF_VAR_api_token": "tok-123"] })
    }

    @Test func missingSecretNamesTheReferenceNotAValue() async throws {
        let (directory, pipeline) = try example()
        defer { directory.remove() }
        var withSecrets = pipeline
        withSecrets.environments[0].secrets = [Secret(name: "db_password", reference: .environment("DEV_DB_PASSWORD"))]
        let engine = FakeEngine(planJSON: try emptyPlan())
        let error = await #expect(throws: KitError.self) {
            try await planner(withSecrets, engine: engine, shell: .echoing(), root: directory.path).plan(env: "dev", source: directory.path)
        }
        #expect(error?.description == "secret 'db_password' of environment 'dev' could not be read from 'env:DEV_DB_PASSWORD': environment variable 'DEV_DB_PASSWORD' is not set; provide it and re-run")
    }

    @Test func unknownEnvironmentAndStackSuggest() async throws {
        let (directory, pipeline) = try example()
        defer { directory.remove() }
        let planner = planner(pipeline, engine: FakeEngine(planJSON: try emptyPlan()), shell: .echoing(), root: directory.path)
        await #expect(throws: KitError.unknownEnvironment("prdo", known: ["dev", "stage", "prod"])) {
            try await planner.plan(env: "prdo", source: directory.path)
        }
        await #expect(throws: KitError.unknownStack("ap", known: ["network", "app"])) {
            try await planner.plan(env: "dev", stacks: ["ap"], source: directory.path)
        }
        #expect(KitError.unknownEnvironment("prdo", known: ["dev", "stage", "prod"]).description == "unknown environment 'prdo'; did you mean 'prod'?")
    }
}

@Suite struct ScaffoldTests {
    @Test func exampleIsValidAndKeepsEnvironmentNamesOutOfCode() throws {
        let files = Scaffold.files(example: true, name: "demo")
        let pipeline = try #require(files.first { $0.path == "tollgate.yaml" })
        let result = PipelineLoader.parse(pipeline.contents, file: "tollgate.yaml", baseDirectory: "/tmp/demo")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.pipeline?.stacks.map(\.name.value) == ["network", "app"])
        #expect(result.pipeline?.environments.map(\.gate.value.kind) == ["auto", "on-merge", "approval"])
        for file in files where file.path.hasSuffix(".tf") {
            for env in ["dev", "stage", "prod"] {
                #expect(!file.contents.contains("\"\(env)\""), "\(file.path) names environment \(env)")
            }
        }
        // State lives outside the repository.
        #expect(pipeline.contents.contains("path: ../demo-state/{env}/{stack}.tfstate"))
    }

    @Test func theDocumentedExampleIsWhatInitWrites() throws {
        let documented = try String(contentsOfFile: TestPaths.packageRoot + "/docs/examples/example.yaml", encoding: .utf8)
        let written = try #require(Scaffold.files(example: true, name: "example").first { $0.path == "tollgate.yaml" })
        #expect(documented == written.contents)
    }

    @Test func skeletonIsValidToo() throws {
        let files = Scaffold.files(example: false, name: "infra")
        let pipeline = try #require(files.first { $0.path == "tollgate.yaml" })
        let result = PipelineLoader.parse(pipeline.contents, file: "tollgate.yaml", baseDirectory: "/tmp/infra")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(files.contains { $0.path == "stacks/main/versions.tf" })
    }

    @Test func initNeverOverwritesAPipeline() throws {
        let directory = try TemporaryDirectory("tollgate-scaffold")
        defer { directory.remove() }
        try directory.write("tollgate.yaml", "# mine\n")
        #expect(throws: KitError.alreadyInitialised(directory.path + "/tollgate.yaml")) {
            try Scaffold.write(to: directory.path, example: true, force: false)
        }
        #expect(directory.read("tollgate.yaml") == "# mine\n")
    }
}
