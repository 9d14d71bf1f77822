import ArgumentParser
import Foundation
import TollgateConfig
import TollgateCore
import TollgateKit
import TollgatePolicy

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Run the repository's Rego policies: their tests, or a check of one plan JSON file.",
        subcommands: [PolicyTestCommand.self, PolicyCheckCommand.self, PolicyEvaluateCommand.self]
    )
}

/// Options shared by the policy subcommands.
struct PolicyOptions: ParsableArguments {
    @OptionGroup var options: GlobalOptions

    @Option(help: "Rego engine: auto, opa, rego-cpp, opa-cli or conftest (default: policies.engine, else auto).")
    var engine: String?

    /// The pipeline's policy settings with `--engine` applied, the modules of the working tree and the engine.
    func load() throws -> (settings: PolicySettings, modules: [PolicyModule], engine: any PolicyEngine) {
        let pipeline = try Composition(options: options).pipeline()
        var settings = pipeline.policies ?? PolicySettings()
        if let engine {
            guard let choice = PolicyEngineChoice(rawValue: engine) else {
                throw ValidationError("unknown engine '\(engine)'; use one of: \(PolicyEngineChoice.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.engine = choice
        }
        let directory = PathText.absolute(settings.path, base: pipeline.baseDirectory)
        let modules = try PolicySources.modules(in: directory)
        guard !modules.isEmpty else {
            throw KitError.step("no .rego files under '\(directory)'; write policies there or set policies.path in \(pipeline.file)")
        }
        return (settings, modules, try Composition(options: options).policyEngine(pipeline)(settings.engine))
    }
}

struct PolicyTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run every test_ rule of the policies' *_test.rego files and report each one."
    )

    @OptionGroup var policy: PolicyOptions

    struct Report: Encodable {
        var engine: String
        var passed: Int
        var failed: Int
        var results: [PolicyTestResult]
    }

    func run() async throws {
        try await Output.guarded(policy.options.format) {
            let (_, modules, engine) = try policy.load()
            guard modules.contains(where: \.isTest) else {
                throw KitError.step("the policies have no *_test.rego files; add tests with rules named test_… next to the policies")
            }
            let results = try await engine.test(modules: modules, data: .object([:]))
            let passed = results.filter { $0.outcome == .pass }.count
            if policy.options.format == .json {
                Output.json(Report(engine: engine.name, passed: passed, failed: results.count - passed, results: results))
            } else {
                for result in results {
                    Output.line("\(result.outcome.rawValue.uppercased()) \(result.name)\(result.message.map { ": \($0)" } ?? "")")
                }
                Output.line("\(results.count) test\(results.count == 1 ? "" : "s"), \(passed) passed, \(results.count - passed) failed (\(engine.name))")
            }
            if passed != results.count { throw ExitCode(Output.Code.error) }
        }
    }
}

struct PolicyCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Judge one plan JSON file (terraform show -json) with the policies, as the policy check does."
    )

    @OptionGroup var policy: PolicyOptions

    @Argument(help: "A plan JSON file, as 'terraform show -json PLANFILE' prints it.")
    var planJSON: String

    @Option(help: "The environment the plan is for (data.tollgate.env).")
    var env: String?

    @Option(help: "The stack the plan is for (data.tollgate.stack).")
    var stack: String?

    func run() async throws {
        try await Output.guarded(policy.options.format) {
            let (settings, modules, engine) = try policy.load()
            guard let input = FileManager.default.contents(atPath: PathResolution.absolute(planJSON)) else {
                throw KitError.step("cannot read '\(planJSON)'; give the path of a file written by 'terraform show -json PLANFILE > plan.json'")
            }
            guard (try? JSONDecoder().decode(JSONValue.self, from: input)) != nil else {
                throw KitError.step("'\(planJSON)' is not JSON; write it with 'terraform show -json PLANFILE > plan.json'")
            }
            var context: [String: JSONValue] = [:]
            if let env { context["env"] = .string(env) }
            if let stack { context["stack"] = .string(stack) }
            let report = try await engine.check(PolicyRequest(modules: modules, namespaces: settings.namespaces, context: context, input: input))
            if policy.options.format == .json {
                Output.json(report)
            } else {
                for message in report.messages { Output.line("\(message.level.rawValue.uppercased()) \(message.rule): \(message.message)") }
                Output.line("\(report.denials.count) denied, \(report.warnings.count) warning\(report.warnings.count == 1 ? "" : "s") (\(report.engine))")
            }
            if report.status == .fail { throw ExitCode(Output.Code.refused) }
        }
    }
}

/// The child side of `IsolatedPolicyEngine`: evaluates a JSON request from stdin with a native
/// library engine and answers on stdout, so a crash in the library cannot take tollgate down.
struct PolicyEvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate Rego queries read as JSON from stdin (used by tollgate itself).",
        shouldDisplay: false
    )

    @Option(help: "The library engine: opa or rego-cpp.")
    var engine: String

    @Option(help: "The shared library's path.")
    var library: String

    func run() async throws {
        let request = FileHandle.standardInput.readDataToEndOfFile()
        let answer: Data
        switch engine {
        case "opa": answer = await IsolatedEvaluation.answer(request, engine: try OPALibraryEngine(path: library))
        case "rego-cpp": answer = await IsolatedEvaluation.answer(request, engine: try RegoCppLibraryEngine(path: library))
        default: throw ValidationError("engine '\(engine)' is not a library engine; use opa or rego-cpp")
        }
        FileHandle.standardOutput.write(answer)
    }
}
