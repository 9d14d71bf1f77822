import Foundation
import TollgateCore
import TollgateEngine

/// Finds the Rego engine `policies.engine` asks for.
///
/// Libraries: `TOLLGATE_OPA_LIBRARY` / `TOLLGATE_REGO_LIBRARY` when set (and then only there), else
/// `$TOLLGATE_TOOLS/policy/`, then the repository's `.tools/policy/` (where scripts/setup-engine.sh
/// puts the wheels' contents).
/// Binaries: `opa` and `conftest` on PATH. `auto` takes the reference OPA library first.
public struct PolicyEngineLocator: Sendable {
    public var environment: [String: String]
    public var baseDirectory: String
    /// The tollgate binary, to run rego-cpp in a child process (see `IsolatedPolicyEngine`); nil runs it in process.
    public var isolatingExecutable: String?
    public var runner: ProcessRunner

    public init(environment: [String: String], baseDirectory: String, isolatingExecutable: String?, runner: ProcessRunner = ProcessRunner()) {
        self.environment = environment
        self.baseDirectory = baseDirectory
        self.isolatingExecutable = isolatingExecutable
        self.runner = runner
    }

    static let install = "run scripts/setup-engine.sh (it installs the OPA and rego-cpp libraries from PyPI into .tools/policy), "
        + "put opa or conftest on PATH, or set TOLLGATE_OPA_LIBRARY to a libopabridge.so"

    public func locate(_ choice: PolicyEngineChoice) throws -> any PolicyEngine {
        switch choice {
        case .opa:
            return try OPALibraryEngine(path: try library(.opa))
        case .regoCpp:
            let path = try library(.regoCpp)
            let engine = try RegoCppLibraryEngine(path: path)
            guard let isolatingExecutable else { return engine }
            return IsolatedPolicyEngine(name: engine.name, executable: isolatingExecutable,
                                        arguments: ["policy", "evaluate", "--engine", "rego-cpp", "--library", path], environment: environment, runner: runner)
        case .opaCLI:
            return OPACommandEngine(path: try binary("opa", choice: choice), environment: environment, runner: runner)
        case .conftest:
            return ConftestEngine(path: try binary("conftest", choice: choice), environment: environment, runner: runner)
        case .auto:
            for candidate in [PolicyEngineChoice.opa, .opaCLI, .conftest, .regoCpp] {
                if let engine = try? locate(candidate) { return engine }
            }
            throw PolicyError.engineNotFound(choice: choice.rawValue, searched: searched(.opa) + searched(.regoCpp) + ["opa and conftest on PATH"],
                                             install: Self.install)
        }
    }

    enum Library { case opa, regoCpp }

    func searched(_ library: Library) -> [String] {
        let (variable, relative) = library == .opa
            ? ("TOLLGATE_OPA_LIBRARY", "policy/opa_bindings/libopabridge.so")
            : ("TOLLGATE_REGO_LIBRARY", "policy/regopy/librego_shared.so")
        // An explicit path is the only one: a typo there must not quietly pick another library.
        if let explicit = environment[variable], !explicit.isEmpty { return [PathText.absolute(explicit, base: baseDirectory)] }
        var paths: [String] = []
        if let tools = environment["TOLLGATE_TOOLS"], !tools.isEmpty { paths.append(PathText.absolute(tools, base: baseDirectory) + "/" + relative) }
        paths.append(baseDirectory + "/.tools/" + relative)
        return paths
    }

    func library(_ library: Library) throws(PolicyError) -> String {
        let paths = searched(library)
        guard let found = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw PolicyError.engineNotFound(choice: library == .opa ? "opa" : "rego-cpp", searched: paths, install: Self.install)
        }
        return found
    }

    func binary(_ name: String, choice: PolicyEngineChoice) throws(PolicyError) -> String {
        let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/" + name) {
            return directory + "/" + name
        }
        throw PolicyError.engineNotFound(choice: choice.rawValue, searched: ["\(name) on PATH"], install: Self.install)
    }
}

/// The request and answer of an evaluation run in a child process, as JSON on stdin and stdout.
public struct IsolatedEvaluation: Codable, Sendable {
    public struct Module: Codable, Sendable {
        public var path: String
        public var source: String
    }

    public struct Request: Codable, Sendable {
        public var modules: [Module]
        public var data: JSONValue
        public var input: String?
        public var queries: [String]
    }

    /// One query's value; `defined` is false where the query is undefined (distinct from JSON null).
    public struct Value: Codable, Sendable {
        public var defined: Bool
        public var value: JSONValue?
    }

    public struct Response: Codable, Sendable {
        public var values: [Value]?
        public var error: String?
    }

    /// The child's side: evaluates a request read from stdin with an in-process engine.
    public static func answer(_ request: Data, engine: some RegoQueryEngine) async -> Data {
        let response: Response
        do {
            let decoded = try JSONDecoder().decode(Request.self, from: request)
            let values = try await engine.evaluate(modules: decoded.modules.map { PolicyModule(path: $0.path, source: $0.source) },
                                                   data: decoded.data, input: decoded.input.map { Data($0.utf8) }, queries: decoded.queries)
            response = Response(values: values.map { Value(defined: $0 != nil, value: $0) })
        } catch PolicyError.evaluation(_, let message) {
            response = Response(error: message)
        } catch {
            response = Response(error: "\(error)")
        }
        return (try? JSONEncoder().encode(response)) ?? Data(#"{"error":"cannot encode the answer"}"#.utf8)
    }
}

/// Runs a native engine in a child process of tollgate, so a crash inside the library is an error
/// naming the engine, never a crash of tollgate (rego-cpp 1.5.2 segfaults on Rego's `with`).
public struct IsolatedPolicyEngine: RegoQueryEngine {
    public var name: String
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var runner: ProcessRunner

    public func evaluate(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) async throws -> [JSONValue?] {
        let request = IsolatedEvaluation.Request(modules: modules.map { .init(path: $0.path, source: $0.source) }, data: data,
                                                 input: input.map { String(decoding: $0, as: UTF8.self) }, queries: queries)
        let output = try await runner.run(executable, arguments, environment: environment, input: try JSONEncoder().encode(request))
        if let signal = output.signal {
            throw PolicyError.engineCrashed(engine: name, detail: "signal \(signal)")
        }
        guard let response = try? JSONDecoder().decode(IsolatedEvaluation.Response.self, from: output.stdout) else {
            throw PolicyError.engineCrashed(engine: name, detail: "exit status \(output.status): \(output.stderrText.suffix(400))")
        }
        if let error = response.error { throw PolicyError.evaluation(engine: name, message: error) }
        return (response.values ?? []).map { $0.defined ? ($0.value ?? .null) : nil }
    }
}

/// Policy files and documents written where a policy binary can read them.
struct PolicyFiles {
    let directory: String
    var policies: String { directory + "/policies" }
    var data: String { directory + "/data.json" }
    var input: String { directory + "/input.json" }

    init(modules: [PolicyModule], data: JSONValue, input: Data?) throws {
        directory = NSTemporaryDirectory() + "tollgate-policy-" + UUID().uuidString
        for module in modules {
            let path = policies + "/" + module.path
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(module.source.utf8).write(to: URL(fileURLWithPath: path))
        }
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try CanonicalJSON.data(data).write(to: URL(fileURLWithPath: self.data))
        try input?.write(to: URL(fileURLWithPath: self.input))
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// `opa eval` on PATH: one run per query, the answer in OPA's JSON result format.
public struct OPACommandEngine: RegoQueryEngine {
    var path: String
    var environment: [String: String]
    var runner: ProcessRunner
    public var name: String { "opa (\(path))" }

    public func evaluate(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) async throws -> [JSONValue?] {
        let files = try PolicyFiles(modules: modules, data: data, input: input)
        defer { files.remove() }
        var values: [JSONValue?] = []
        for query in queries {
            var arguments = ["eval", "--format", "json", "--data", files.policies, "--data", files.data]
            if input != nil { arguments += ["--input", files.input] }
            let output = try await runner.run(path, arguments + [query], environment: environment)
            let answer = try? JSONDecoder().decode(JSONValue.self, from: output.stdout)
            if case .array(let errors)? = answer?["errors"] {
                throw PolicyError.evaluation(engine: name, message: errors.compactMap { $0["message"]?.stringValue }.joined(separator: "; "))
            }
            guard output.status == 0, let answer else {
                throw PolicyError.evaluation(engine: name, message: "exit status \(output.status): \(output.stderrText.suffix(400))")
            }
            if case .array(let sets)? = answer["result"], case .array(let expressions)? = sets.first?["expressions"],
               let value = expressions.first?["value"] {
                values.append(value)
            } else {
                values.append(nil)
            }
        }
        return values
    }
}

/// `conftest` on PATH: `conftest test --output json` judges the plan, `conftest verify` runs the tests.
public struct ConftestEngine: PolicyEngine {
    var path: String
    var environment: [String: String]
    var runner: ProcessRunner
    public var name: String { "conftest (\(path))" }

    public func check(_ request: PolicyRequest) async throws -> PolicyReport {
        let files = try PolicyFiles(modules: request.modules.filter { !$0.isTest }, data: request.data, input: request.input)
        defer { files.remove() }
        var arguments = ["test", "--no-color", "--output", "json", "--policy", files.policies, "--data", files.data]
        for namespace in request.namespaces { arguments += ["--namespace", namespace] }
        let output = try await runner.run(path, arguments + [files.input], environment: environment)
        // Exit 1 means failures were found; the JSON says which. Anything else without JSON is an error.
        guard case .array(let results)? = try? JSONDecoder().decode(JSONValue.self, from: output.stdout) else {
            throw PolicyError.evaluation(engine: name, message: "exit status \(output.status): \(output.stderrText.suffix(400))")
        }
        var messages: [PolicyMessage] = []
        var exceptions: [PolicyException] = []
        for result in results {
            let namespace = result["namespace"]?.stringValue ?? "main"
            // conftest reports an exception by its query: data.main.exception[_][_] == "foo".
            if case .array(let items)? = result["exceptions"] {
                for item in items {
                    let query = item["msg"]?.stringValue ?? ""
                    let name = query.split(separator: "\"", omittingEmptySubsequences: false).dropFirst().first.map(String.init) ?? query
                    exceptions.append(PolicyException(rule: "\(namespace).\(name)", messages: []))
                }
            }
            for (key, level, rule) in [("failures", PolicyMessage.Level.deny, "deny"), ("warnings", .warn, "warn")] {
                guard case .array(let items)? = result[key] else { continue }
                for item in items {
                    let query = item["metadata"]?["query"]?.stringValue.map { String($0.dropFirst("data.".count)) }
                    messages.append(PolicyMessage(level: level, rule: query ?? "\(namespace).\(rule)", message: item["msg"]?.stringValue ?? "\(item)"))
                }
            }
        }
        return PolicyReport(engine: name, messages: messages, exceptions: exceptions)
    }

    public func test(modules: [PolicyModule], data: JSONValue) async throws -> [PolicyTestResult] {
        let files = try PolicyFiles(modules: modules, data: data, input: nil)
        defer { files.remove() }
        let output = try await runner.run(path, ["verify", "--no-color", "--policy", files.policies, "--data", files.data], environment: environment)
        // conftest reports its tests as a whole; tollgate passes its verdict on.
        return [PolicyTestResult(name: "conftest verify", outcome: output.status == 0 ? .pass : .fail,
                                 message: (output.stdoutText + output.stderrText).trimmingCharacters(in: .whitespacesAndNewlines))]
    }
}
