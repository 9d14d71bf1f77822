import Foundation
import TestSupport
import Testing
import TollgateConfig
import TollgateCore
import TollgateKit
import TollgateStore

@Suite struct PlannerTests {
    /// The example repository sealed into a release in a real ledger and artifact store, with a
    /// fake engine (this suite tests the planner's flow, not the engine).
    struct Setup {
        let directory: TemporaryDirectory
        let context: Context
        let engine: FakeEngine
        let shell: FakeShell
        let release: Release
    }

    func setup(shell: FakeShell = .echoing(), environment: [String: String] = [:], edit: (inout Pipeline) -> Void = { _ in }) async throws -> Setup {
        let directory = try TemporaryDirectory("tollgate-kit")
        try Scaffold.write(to: directory.path + "/repo", example: true, force: false)
        let result = PipelineLoader.load(path: directory.path + "/repo/tollgate.yaml")
        var pipeline = try #require(result.validPipeline, "\(result.diagnostics)")
        edit(&pipeline)
        let artifacts = FileArtifactStore(root: directory.path + "/artifacts")
        let entries = Scaffold.files(example: true, name: "repo").map { TarArchive.Entry(path: $0.path, contents: Data($0.contents.utf8)) }
        let id = try await artifacts.put(try TarArchive.write(entries))
        let release = Release(id: id, commit: "c0ffee", branch: "main", pr: nil, author: "author@example.com",
                              createdAt: Date(timeIntervalSince1970: 1_790_000_000), files: entries.map(\.path))
        let effects = fixedEffects()
        let ledger = try SQLiteLedger(path: directory.path + "/ledger.sqlite", effects: effects)
        try await ledger.recordRelease(release, event: AuditEntry(actor: "t", kind: "release.created"))
        let engine = FakeEngine(planJSON: try TestPaths.fixture("plans/terraform-1.11.4/create.json"))
        let context = Context(pipeline: pipeline, engine: engine, ledger: ledger, artifacts: artifacts, git: UnusedGit(),
                              signatures: UnusedSignatures(), shell: shell, effects: effects, workRoot: directory.path + "/work",
                              actor: "planner@example.com", host: "test", pid: 1, processEnvironment: environment,
                              parsePipeline: { [pipeline] _ in pipeline })
        return Setup(directory: directory, context: context, engine: engine, shell: shell, release: release)
    }

    @Test func plansEveryStackInItsOwnFreshWorkDirSideBySide() async throws {
        let setup = try await setup()
        defer { setup.directory.remove() }
        // Both plans must be running at once for either to finish.
        // A planner that goes one at a time is seen as such after the patience runs out; a loaded machine may
        // take many seconds to unpack the second work dir, so the patience is long.
        await setup.engine.holdPlans(until: 2, patience: .seconds(120))
        let plans = try await Planner(context: setup.context).plan(release: setup.release.id, env: "dev")
        #expect(await setup.engine.mostPlansAtOnce == 2)
        // Results and records come back in dependency order whatever order the plans finished in.
        #expect(plans.map(\.stack) == ["network", "app"])
        #expect(plans.map(\.planner) == ["planner@example.com", "planner@example.com"])
        let calls = await setup.engine.calls
        let state = setup.directory.path + "/repo-state/dev"
        var roots: [String] = []
        for stack in ["network", "app"] {
            // init, plan, show in order within each stack's own work dir, unpacked from the release.
            let mine = calls.filter { $0.contains("/dev/\(stack)/src/stacks/\(stack)") }
            #expect(mine.count == 3)
            let directory = try #require(mine.first?.split(separator: " ").dropFirst().first.map(String.init))
            #expect(directory.hasPrefix("\(setup.directory.path)/work/20260921T141320-plan-id"))
            #expect(mine == ["init \(directory) path=\(state)/\(stack).tfstate", "plan \(directory) \(stack).tfvars", "show \(directory)"])
            roots.append(String(directory.dropLast("/src/stacks/\(stack)".count)))
        }
        #expect(Set(roots).count == 2)
        #expect(FileManager.default.fileExists(atPath: "\(roots[0])/src/modules/vpc/main.tf"))
        #expect(plans[0].summary.create.count == 7)
        #expect(plans[0].digest == Digest.id(Data("fake plan of \(roots[0])/src/stacks/network".utf8)))
        #expect(Set(try await setup.context.ledger.plans(env: "dev", stack: nil).map(\.id)) == Set(plans.map(\.id)))
        #expect(try await setup.context.ledger.events().map(\.kind) == ["release.created", "plan.created", "plan.created"])
    }

    @Test func withTheEphemeralCheckTheStacksArePlannedOneAtATime() async throws {
        // One ephemeral copy per release and environment: the first stack brings it up, the next reuses it.
        let setup = try await setup { pipeline in pipeline.environments[0].checks.append(Located(.ephemeral)) }
        defer { setup.directory.remove() }
        // Two plans at once would meet here at once; one at a time, the first waits out the second.
        await setup.engine.holdPlans(until: 2, patience: .seconds(1))
        let plans = try await Planner(context: setup.context).plan(release: setup.release.id, env: "dev")
        #expect(plans.map(\.stack) == ["network", "app"])
        #expect(await setup.engine.mostPlansAtOnce == 1)
    }

    @Test func aFailedStackIsReportedAndTheOthersStillPlan() async throws {
        let setup = try await setup()
        defer { setup.directory.remove() }
        await setup.engine.failPlans(in: "/dev/network/")
        let error = await #expect(throws: KitError.self) {
            try await Planner(context: setup.context).plan(release: setup.release.id, env: "dev")
        }
        #expect(error?.description.contains("the fake engine's plan failed in") == true)
        #expect(error?.description.contains("/dev/network/") == true)
        // The app stack's plan ran to its end and is on record, as an earlier stack's would be.
        #expect(try await setup.context.ledger.plans(env: "dev", stack: nil).map(\.stack) == ["app"])
    }

    @Test func outOfOrderPromotionIsRefusedAndRecorded() async throws {
        let setup = try await setup()
        defer { setup.directory.remove() }
        let error = await #expect(throws: KitError.self) {
            try await Planner(context: setup.context).plan(release: setup.release.id, env: "stage")
        }
        #expect(error?.isRefusal == true)
        #expect(error?.description.contains("has not been applied successfully to 'dev' for stack 'network'") == true)
        #expect(await setup.engine.calls.isEmpty)
        #expect(try await setup.context.ledger.events().last?.kind == "refused")
    }

    @Test func identityMismatchIsRefusedBeforeTheEngineRuns() async throws {
        let shell = FakeShell { _ in ShellResult(status: 0, stdout: "local-prod\n", stderr: "") }
        let setup = try await setup(shell: shell)
        defer { setup.directory.remove() }
        let error = await #expect(throws: KitError.self) {
            try await Planner(context: setup.context).plan(release: setup.release.id, env: "dev")
        }
        #expect(error == .identityMismatch(env: "dev", expected: "local-dev", actual: "local-prod", command: "echo local-dev"))
        #expect(error?.description.contains("switch to credentials for account 'local-dev'") == true)
        #expect(await setup.engine.calls.isEmpty)
        #expect(try await setup.context.ledger.events().last?.kind == "refused")
    }

    @Test func secretsReachTheEngineOnlyAsVariables() async throws {
        let shell = FakeShell { command in
            command == "print-token" ? ShellResult(status: 0, stdout: "tok-123\n", stderr: "") : ShellResult(status: 0, stdout: "local-dev\n", stderr: "")
        }
        let setup = try await setup(shell: shell, environment: ["DEV_DB_PASSWORD": "pw-456"]) { pipeline in
            pipeline.environments[0].secrets = [
                Secret(name: "db_password", reference: .environment("DEV_DB_PASSWORD")),
                Secret(name: "api_token", reference: .command("print-token")),
            ]
        }
        defer { setup.directory.remove() }
        let plans = try await Planner(context: setup.context).plan(release: setup.release.id, env: "dev", stacks: ["app"])
        #expect(plans.map(\.stack) == ["app"])
        let seen = await setup.engine.variablesSeen
        #expect(seen.allSatisfy { $0 == ["TF_VAR_db_password": "pw-456", "TF_VAR_api_token": "tok-123"] })
    }

    @Test func missingSecretNamesTheReferenceNotAValue() async throws {
        let setup = try await setup { pipeline in
            pipeline.environments[0].secrets = [Secret(name: "db_password", reference: .environment("DEV_DB_PASSWORD"))]
        }
        defer { setup.directory.remove() }
        let error = await #expect(throws: KitError.self) {
            try await Planner(context: setup.context).plan(release: setup.release.id, env: "dev")
        }
        #expect(error?.description == "secret 'db_password' of environment 'dev' could not be read from 'env:DEV_DB_PASSWORD': environment variable 'DEV_DB_PASSWORD' is not set; provide it and re-run")
    }

    @Test func unknownEnvironmentStackAndReleaseSuggest() async throws {
        let setup = try await setup()
        defer { setup.directory.remove() }
        let planner = Planner(context: setup.context)
        await #expect(throws: KitError.unknownEnvironment("prdo", known: ["dev", "stage", "prod"])) {
            try await planner.plan(release: setup.release.id, env: "prdo")
        }
        await #expect(throws: KitError.unknownStack("ap", known: ["network", "app"])) {
            try await planner.plan(release: setup.release.id, env: "dev", stacks: ["ap"])
        }
        // An unambiguous prefix names the release; an unknown one says how to find releases.
        #expect(try await setup.context.release(String(setup.release.id.prefix(16))) == setup.release)
        await #expect(throws: KitError.self) { try await setup.context.release("sha256:ffff") }
        #expect(KitError.unknownEnvironment("prdo", known: ["dev", "stage", "prod"]).description == "unknown environment 'prdo'; did you mean 'prod'?")
    }
}

/// Ports these tests never reach; the git fake answers only `tags` and only when given some.
struct UnusedGit: Git {
    var tagged: [GitTag]?

    func fail() -> TestSupportError { TestSupportError("git is not used here") }
    func topLevel() async throws -> String { throw fail() }
    func resolveCommit(_ revision: String) async throws -> String? { throw fail() }
    func dirtyPaths(_ paths: [String]) async throws -> [String] { throw fail() }
    func currentBranch() async throws -> String? { throw fail() }
    func authorEmail(commit: String) async throws -> String { throw fail() }
    func userEmail() async throws -> String? { throw fail() }
    func files(commit: String, under paths: [String]) async throws -> [GitFile] { throw fail() }
    func contents(of objects: [String]) async throws -> [Data] { throw fail() }
    func isAncestor(_ commit: String, of reference: String) async throws -> Bool { throw fail() }
    func commits(since base: String?, through tip: String, allowedSigners: String?) async throws -> [CommitIdentity] { throw fail() }
    func tag(_ name: String, commit: String, message: String, signingKey: String?) async throws { throw fail() }
    func tagSigner(_ name: String, allowedSigners: String) async throws -> String? { throw fail() }
    func remotes() async throws -> [String] { throw fail() }
    func isShallow() async throws -> Bool { throw fail() }
    func firstParentHistory(of reference: String, limit: Int) async throws -> [String] { throw fail() }
    func deepen(remote: String, branch: String, by: Int) async throws { throw fail() }
    func tags(prefix: String) async throws -> [GitTag] {
        guard let tagged else { throw fail() }
        return tagged.filter { $0.name.hasPrefix(prefix) }
    }
}

struct UnusedSignatures: Signatures {
    func principals(forKey keyPath: String, allowedSigners: String) async throws -> [String] { [] }
    func sign(_ message: String, keyPath: String) async throws -> String { throw TestSupportError("not used") }
    func verify(_ message: String, signature: String, principal: String, allowedSigners: String) async throws -> Bool { false }
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
