import Foundation

/// One Rego source file, named by its path relative to the policy directory.
public struct PolicyModule: Sendable, Equatable {
    public var path: String
    public var source: String

    public init(path: String, source: String) {
        self.path = path
        self.source = source
    }

    /// Conftest's convention: `*_test.rego` files hold tests, never rules that judge a plan.
    public var isTest: Bool { path.hasSuffix("_test.rego") }
}

/// Which Rego engine evaluates policies (`policies.engine` in tollgate.yaml).
public enum PolicyEngineChoice: String, Sendable, Equatable, CaseIterable {
    /// The reference OPA library, else `opa` on PATH, else `conftest` on PATH, else rego-cpp.
    case auto
    /// The reference OPA engine, loaded from `libopabridge.so`.
    case opa
    /// rego-cpp, loaded from `librego_shared.so`.
    case regoCpp = "rego-cpp"
    /// The `opa` binary on PATH.
    case opaCLI = "opa-cli"
    /// The `conftest` binary on PATH.
    case conftest
}

/// The port to a Rego engine.
///
/// Engines that can evaluate arbitrary queries (the OPA and rego-cpp libraries, `opa eval`) implement
/// `evaluate` and get conftest's conventions and `opa test`'s from `RegoQueries`; `conftest` itself
/// only speaks its own conventions, so it implements `check` and `test` directly.
public protocol PolicyEngine: Sendable {
    /// What the engine is, for reports: `opa 1.20.0 (library)`.
    var name: String { get }
    /// Judges one plan: every deny, violation and warn rule of the namespaces.
    func check(_ request: PolicyRequest) async throws -> PolicyReport
    /// Runs every `test_` rule of the modules.
    func test(modules: [PolicyModule], data: JSONValue) async throws -> [PolicyTestResult]
}

/// An engine that evaluates queries against modules, data and input.
public protocol RegoQueryEngine: PolicyEngine {
    /// The value of each query, or nil where it is undefined. `input` is JSON text; nil means no input.
    func evaluate(modules: [PolicyModule], data: JSONValue, input: Data?, queries: [String]) async throws -> [JSONValue?]
}

/// What a policy check needs: the rules, tollgate's context and the plan.
public struct PolicyRequest: Sendable {
    /// The policy modules; test files are left out by `RegoQueries`.
    public var modules: [PolicyModule]
    /// The namespaces (Rego packages) whose rules judge the plan.
    public var namespaces: [String]
    /// `data.tollgate`: env, stack, release, author, planner.
    public var context: [String: JSONValue]
    /// Exactly the JSON that `terraform show -json` printed for the plan.
    public var input: Data

    public init(modules: [PolicyModule], namespaces: [String], context: [String: JSONValue], input: Data) {
        self.modules = modules
        self.namespaces = namespaces
        self.context = context
        self.input = input
    }

    /// The data document: tollgate's context under `data.tollgate`.
    public var data: JSONValue { .object(["tollgate": .object(context)]) }
}

/// One message of a deny, violation or warn rule.
public struct PolicyMessage: Sendable, Equatable, Codable, Comparable {
    public enum Level: String, Sendable, Codable { case deny, warn }
    public var level: Level
    /// `main.deny`, `main.warn_tags`.
    public var rule: String
    public var message: String

    public init(level: Level, rule: String, message: String) {
        self.level = level
        self.rule = rule
        self.message = message
    }

    public static func < (a: PolicyMessage, b: PolicyMessage) -> Bool {
        (a.level == .deny ? 0 : 1, a.rule, a.message) < (b.level == .deny ? 0 : 1, b.rule, b.message)
    }
}

/// The verdict of the policies on one plan.
public struct PolicyReport: Sendable, Equatable, Codable {
    public var engine: String
    public var messages: [PolicyMessage]

    public init(engine: String, messages: [PolicyMessage]) {
        self.engine = engine
        self.messages = messages.sorted()
    }

    public var denials: [PolicyMessage] { messages.filter { $0.level == .deny } }
    public var warnings: [PolicyMessage] { messages.filter { $0.level == .warn } }

    /// Fail on any deny or violation, warn on warnings only, else pass.
    public var status: CheckResult.Status {
        if !denials.isEmpty { return .fail }
        return warnings.isEmpty ? .pass : .warn
    }
}

/// The outcome of one `test_` rule.
public struct PolicyTestResult: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable { case pass, fail, error }
    /// `data.main.test_deny_delete`.
    public var name: String
    public var outcome: Outcome
    public var message: String?

    public init(name: String, outcome: Outcome, message: String? = nil) {
        self.name = name
        self.outcome = outcome
        self.message = message
    }
}

/// Conftest's and `opa test`'s conventions, over any engine that evaluates queries.
public enum RegoQueries {
    /// Rules that judge a plan: `deny`, `violation`, `warn`, and those names followed by `_suffix`.
    public static func level(ofRule name: String) -> PolicyMessage.Level? {
        for (prefix, level) in [("deny", PolicyMessage.Level.deny), ("violation", .deny), ("warn", .warn)] {
            if name == prefix { return level }
            if name.hasPrefix(prefix + "_"), name.count > prefix.count + 1,
               name.dropFirst(prefix.count + 1).allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                return level
            }
        }
        return nil
    }

    /// The messages in one namespace's document (the value of `data.NAMESPACE`).
    public static func messages(namespace: String, document: JSONValue?) -> [PolicyMessage] {
        guard case .object(let rules)? = document else { return [] }
        var messages: [PolicyMessage] = []
        for (rule, value) in rules.sorted(by: { $0.key < $1.key }) {
            guard let level = level(ofRule: rule) else { continue }
            let items: [JSONValue]
            switch value {
            case .array(let values): items = values
            case .bool(false), .null: items = []
            default: items = [value]
            }
            for item in items {
                messages.append(PolicyMessage(level: level, rule: "\(namespace).\(rule)", message: text(of: item)))
            }
        }
        return messages
    }

    /// A string rule value, or an object's `msg`; anything else as compact JSON.
    static func text(of value: JSONValue) -> String {
        if let text = value.stringValue { return text }
        if let message = value["msg"]?.stringValue { return message }
        return String(decoding: CanonicalJSON.data(value), as: UTF8.self)
    }

    /// The packages and `test_` rules declared in test modules, in file order.
    public static func tests(in modules: [PolicyModule]) -> [String] {
        var names: [String] = []
        for module in modules where module.isTest {
            var package: String?
            for line in module.source.split(separator: "\n", omittingEmptySubsequences: false) {
                let text = line.drop { $0 == " " || $0 == "\t" }
                if text.hasPrefix("package ") {
                    package = text.dropFirst("package ".count).prefix { !$0.isWhitespace && $0 != "#" }.description
                    continue
                }
                // A rule head starts in column one: `test_name if {`, `test_name {`, `test_name := …`.
                guard line.hasPrefix("test_"), let package else { continue }
                let name = line.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                let reference = "data.\(package).\(name)"
                if !names.contains(reference) { names.append(reference) }
            }
        }
        return names
    }

    /// Evaluates every namespace's document once and collects the messages.
    public static func check(_ request: PolicyRequest, on engine: some RegoQueryEngine) async throws -> PolicyReport {
        let modules = request.modules.filter { !$0.isTest }
        let values = try await engine.evaluate(modules: modules, data: request.data, input: request.input,
                                               queries: request.namespaces.map { "data.\($0)" })
        var messages: [PolicyMessage] = []
        for (namespace, value) in zip(request.namespaces, values) {
            messages += Self.messages(namespace: namespace, document: value)
        }
        return PolicyReport(engine: engine.name, messages: messages)
    }

    /// Runs each test rule on its own, so one failing rule cannot hide another.
    public static func test(modules: [PolicyModule], data: JSONValue, on engine: some RegoQueryEngine) async throws -> [PolicyTestResult] {
        var results: [PolicyTestResult] = []
        for name in tests(in: modules) {
            do {
                let value = try await engine.evaluate(modules: modules, data: data, input: nil, queries: [name]).first ?? nil
                switch value {
                case .bool(true)?: results.append(PolicyTestResult(name: name, outcome: .pass))
                case nil: results.append(PolicyTestResult(name: name, outcome: .fail, message: "undefined"))
                case let other?: results.append(PolicyTestResult(name: name, outcome: .fail,
                                                                 message: "evaluated to \(String(decoding: CanonicalJSON.data(other), as: UTF8.self))"))
                }
            } catch let error as PolicyError {
                results.append(PolicyTestResult(name: name, outcome: .error, message: error.description))
            }
        }
        return results
    }
}

extension RegoQueryEngine {
    public func check(_ request: PolicyRequest) async throws -> PolicyReport {
        try await RegoQueries.check(request, on: self)
    }

    public func test(modules: [PolicyModule], data: JSONValue) async throws -> [PolicyTestResult] {
        try await RegoQueries.test(modules: modules, data: data, on: self)
    }
}

/// Why a policy could not be evaluated: never a silent pass.
public enum PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No engine of the chosen kind was found; `searched` says where, `install` how to get one.
    case engineNotFound(choice: String, searched: [String], install: String)
    /// The engine rejected a module (a parse or compile error) or failed while evaluating.
    case evaluation(engine: String, message: String)
    /// The engine itself stopped (a crash in a native library, a killed process).
    case engineCrashed(engine: String, detail: String)

    public var description: String {
        switch self {
        case .engineNotFound(let choice, let searched, let install):
            "no Rego engine for policies.engine '\(choice)' (looked in \(searched.joined(separator: ", "))); \(install)"
        case .evaluation(let engine, let message):
            "\(engine): \(message)"
        case .engineCrashed(let engine, let detail):
            "\(engine) stopped while evaluating (\(detail)); this is a bug in the engine, so use another one: policies.engine: opa"
        }
    }
}
