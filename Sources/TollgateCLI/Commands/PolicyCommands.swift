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
        abstract: "Run every test_ rule of the policies' *_test.rego files and report each one, as conftest verify does."
    )

    @OptionGroup var policy: PolicyOptions

    struct Report: Encodable {
        var engine: String
        var passed: Int
        var failed: Int
        var errors: Int
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
            let errors = results.filter { $0.outcome == .error }.count
            if policy.options.format == .json {
                Output.json(Report(engine: engine.name, passed: passed, failed: results.count - passed - errors, errors: errors, results: results))
            } else {
                for result in results {
                    Output.line("\(result.outcome.rawValue.uppercased()) \(result.name)\(result.file.map { " (\($0))" } ?? "")\(result.message.map { ": \($0)" } ?? "")")
                }
                Output.line("\(results.count) test\(results.count == 1 ? "" : "s"), \(passed) passed, \(results.count - passed - errors) failed\(errors == 0 ? "" : ", \(errors) error\(errors == 1 ? "" : "s")") (\(engine.name))")
            }
            if passed != results.count { throw ExitCode(Output.Code.error) }
        }
    }
}

struct PolicyCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Judge a plan JSON file, or .tf files as conftest's HCL2 parser gives them, with the policies.",
        discussion: """
            A .json file must be a plan written by 'terraform show -json PLANFILE'. A .tf, .tfvars or .hcl file, \
            or a directory (every .tf and .tfvars file under it, each judged on its own), is given to the \
            policies in conftest's HCL2 shape: input.resource.TYPE.NAME[0]. Input the policies do not read \
            (they name input members it has none of) is refused rather than passed.
            """
    )

    @OptionGroup var policy: PolicyOptions

    @Argument(help: "A plan JSON file ('terraform show -json PLANFILE > plan.json'), a .tf or .tfvars file, or a directory of them.")
    var input: String

    @Option(help: "The environment the input is for (data.tollgate.env).")
    var env: String?

    @Option(help: "The stack the input is for (data.tollgate.stack).")
    var stack: String?

    /// One input's verdict.
    struct Judged: Encodable {
        var file: String
        var parser: String
        var messages: [PolicyMessage]
        var exceptions: [PolicyException]
    }

    struct Report: Encodable {
        var engine: String
        var denied: Int
        var warnings: Int
        var exceptions: Int
        var inputs: [Judged]
    }

    func run() async throws {
        try await Output.guarded(policy.options.format) {
            let (settings, modules, engine) = try policy.load()
            let inputs: [PolicyInputs.Input]
            do {
                inputs = try PolicyInputs.load(PathResolution.absolute(input), shownAs: input)
            } catch let error as PolicyInputs.InputError {
                throw KitError.step(error.description)
            } catch let error as ConftestHCL.ConversionError {
                throw KitError.step(error.description)
            }
            // Never "0 denied" for input the policies do not read: one file of a directory may be a
            // .tfvars file that resource policies skip, but at least one must be what they read.
            let read = RegoQueries.inputMembers(readBy: modules.filter { !$0.isTest })
            if inputs.allSatisfy({ RegoQueries.unread(input: $0.members, file: $0.file, read: read) != nil }) {
                let refusal = inputs.count == 1 ? RegoQueries.unread(input: inputs[0].members, file: "'\(inputs[0].file)'", read: read)
                    : RegoQueries.unread(input: inputs.reduce(into: Set<String>()) { $0.formUnion($1.members) }, file: "no file under '\(input)'", read: read)
                throw KitError.step(refusal ?? "the policies read nothing in '\(input)'")
            }
            var context: [String: JSONValue] = [:]
            if let env { context["env"] = .string(env) }
            if let stack { context["stack"] = .string(stack) }
            var judged: [Judged] = []
            var engineName = engine.name
            for item in inputs {
                let report = try await engine.check(PolicyRequest(modules: modules, namespaces: settings.namespaces, context: context, input: item.json))
                engineName = report.engine
                judged.append(Judged(file: item.file, parser: item.parser.rawValue, messages: report.messages, exceptions: report.exceptions))
            }
            let denied = judged.reduce(0) { $0 + $1.messages.filter { $0.level == .deny }.count }
            let warnings = judged.reduce(0) { $0 + $1.messages.filter { $0.level == .warn }.count }
            let exceptions = judged.reduce(0) { $0 + $1.exceptions.count }
            if policy.options.format == .json {
                Output.json(Report(engine: engineName, denied: denied, warnings: warnings, exceptions: exceptions, inputs: judged))
            } else {
                for item in judged {
                    let prefix = judged.count == 1 ? "" : "\(item.file): "
                    for message in item.messages { Output.line("\(message.level.rawValue.uppercased()) \(prefix)\(message.rule): \(message.message)") }
                    for exception in item.exceptions {
                        Output.line("EXCEPTION \(prefix)\(exception.rule): exempted by an exception rule\(exception.messages.isEmpty ? "" : " (\(exception.messages.joined(separator: "; ")))")")
                    }
                }
                let files = judged.count == 1 ? "" : "\(judged.count) files, "
                Output.line("\(files)\(denied) denied, \(warnings) warning\(warnings == 1 ? "" : "s"), \(exceptions) exception\(exceptions == 1 ? "" : "s") (\(engineName))")
            }
            if denied > 0 { throw ExitCode(Output.Code.refused) }
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
