import Foundation

/// One Rego source file, named by its path relative to the policy directory.
public struct PolicyModule: Sendable, Equatable {
    public var path: String
    public var source: String
    /// The file's absolute path, where it came from one: `parse_config_file` reads relative to it.
    public var origin: String?

    public init(path: String, source: String, origin: String? = nil) {
        self.path = path
        self.source = source
        self.origin = origin
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

/// A rule that an `exception` rule exempted from judging this input, as conftest defines them:
/// `exception contains ["foo"]` exempts `deny_foo` and `violation_foo`; its messages do not count.
public struct PolicyException: Sendable, Equatable, Codable {
    /// `main.deny_foo`.
    public var rule: String
    /// What the rule said, which the exception set aside (possibly nothing).
    public var messages: [String]

    public init(rule: String, messages: [String]) {
        self.rule = rule
        self.messages = messages
    }
}

/// The verdict of the policies on one plan.
public struct PolicyReport: Sendable, Equatable, Codable {
    public var engine: String
    public var messages: [PolicyMessage]
    public var exceptions: [PolicyException]

    public init(engine: String, messages: [PolicyMessage], exceptions: [PolicyException] = []) {
        self.engine = engine
        self.messages = messages.sorted()
        self.exceptions = exceptions.sorted { $0.rule < $1.rule }
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
    /// The test file, relative to the policy directory.
    public var file: String?
    public var outcome: Outcome
    public var message: String?

    public init(name: String, file: String? = nil, outcome: Outcome, message: String? = nil) {
        self.name = name
        self.file = file
        self.outcome = outcome
        self.message = message
    }
}

/// Conftest's and `opa test`'s conventions, over any engine that evaluates queries.
public enum RegoQueries {
    /// Rules that judge a plan, as conftest matches them: `deny`, `violation` and `warn`, each
    /// optionally followed by `_part` groups of ASCII letters and digits (`deny_public_acl`).
    public static func level(ofRule name: String) -> PolicyMessage.Level? {
        for (prefix, level) in [("deny", PolicyMessage.Level.deny), ("violation", .deny), ("warn", .warn)] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            if rest.isEmpty { return level }
            guard rest.first == "_" else { continue }
            let parts = rest.dropFirst().split(separator: "_", omittingEmptySubsequences: false)
            if parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }) { return level }
        }
        return nil
    }

    /// The name an `exception` uses for a rule: `deny_foo` and `violation_foo` are `foo`; other
    /// rules (`deny`, `warn_foo`) go by their own name, as conftest queries them.
    static func exceptionName(ofRule rule: String) -> String {
        for prefix in ["deny_", "violation_"] where rule.hasPrefix(prefix) { return String(rule.dropFirst(prefix.count)) }
        return rule
    }

    /// The names an `exception` rule lists: the strings in each of its arrays.
    static func exempted(_ exception: JSONValue?) -> Set<String> {
        guard case .array(let lists)? = exception else { return [] }
        var names: Set<String> = []
        for case .array(let items) in lists {
            for case .string(let name) in items { names.insert(name) }
        }
        return names
    }

    /// The messages in one namespace's document (the value of `data.NAMESPACE`).
    public static func messages(namespace: String, document: JSONValue?) -> [PolicyMessage] {
        judge(namespace: namespace, document: document).messages
    }

    /// The messages and exceptions in one namespace's document. A rule the namespace's `exception`
    /// names gives no messages; it is listed among the exceptions with what it said. The empty name
    /// exempts the bare `deny` and `violation` rules, as conftest's documentation says.
    public static func judge(namespace: String, document: JSONValue?) -> (messages: [PolicyMessage], exceptions: [PolicyException]) {
        guard case .object(let rules)? = document else { return ([], []) }
        let exempted = exempted(rules["exception"])
        var messages: [PolicyMessage] = []
        var exceptions: [PolicyException] = []
        for (rule, value) in rules.sorted(by: { $0.key < $1.key }) {
            guard let level = level(ofRule: rule) else { continue }
            let items: [JSONValue]
            switch value {
            case .array(let values): items = values
            case .bool(false), .null: items = []
            default: items = [value]
            }
            let bare = level == .deny && (rule == "deny" || rule == "violation")
            if exempted.contains(exceptionName(ofRule: rule)) || (bare && exempted.contains("")) {
                exceptions.append(PolicyException(rule: "\(namespace).\(rule)", messages: items.map(text(of:))))
                continue
            }
            for item in items {
                messages.append(PolicyMessage(level: level, rule: "\(namespace).\(rule)", message: text(of: item)))
            }
        }
        return (messages, exceptions)
    }

    /// A string rule value, or an object's `msg`; anything else as compact JSON.
    static func text(of value: JSONValue) -> String {
        if let text = value.stringValue { return text }
        if let message = value["msg"]?.stringValue { return message }
        return String(decoding: CanonicalJSON.data(value), as: UTF8.self)
    }

    /// A `test_` rule of a test module.
    public struct TestRule: Sendable, Equatable {
        /// The module's path.
        public var file: String
        /// The module's package.
        public var package: String
        /// `data.PACKAGE.test_name`.
        public var reference: String
    }

    /// The package a module declares, or nil.
    public static func package(of module: PolicyModule) -> String? {
        for line in module.source.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.drop { $0 == " " || $0 == "\t" }
            if text.hasPrefix("package ") {
                return text.dropFirst("package ".count).prefix { !$0.isWhitespace && $0 != "#" }.description
            }
        }
        return nil
    }

    /// The `test_` rules declared in test modules, in file order.
    public static func tests(in modules: [PolicyModule]) -> [TestRule] {
        var rules: [TestRule] = []
        for module in modules where module.isTest {
            guard let package = package(of: module) else { continue }
            for line in module.source.split(separator: "\n", omittingEmptySubsequences: false) {
                // A rule head starts in column one: `test_name if {`, `test_name {`, `test_name := …`.
                guard line.hasPrefix("test_") else { continue }
                let name = line.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                let reference = "data.\(package).\(name)"
                if !rules.contains(where: { $0.reference == reference }) {
                    rules.append(TestRule(file: module.path, package: package, reference: reference))
                }
            }
        }
        return rules
    }

    /// The top-level members of `input` that the modules name: `input.resource_changes`,
    /// `input["resource"]`, `import input.planned_values`. Comments and strings are skipped.
    public static func inputMembers(readBy modules: [PolicyModule]) -> Set<String> {
        var members: Set<String> = []
        for module in modules {
            var scanner = InputScanner(Array(module.source.utf8))
            members.formUnion(scanner.members())
        }
        return members
    }

    /// Why an input is not what the policies read: they name members of `input` and it has none of
    /// them. Nil when it has one, or when the policies name no member (they read `input` whole).
    public static func unread(input members: Set<String>, file: String, read: Set<String>) -> String? {
        guard !read.isEmpty, members.isDisjoint(with: read) else { return nil }
        let wanted = read.sorted().prefix(6).map { "input.\($0)" }.joined(separator: ", ") + (read.count > 6 ? ", …" : "")
        let has = members.isEmpty ? "it has no members" : "it has " + members.sorted().prefix(6).map { "'\($0)'" }.joined(separator: ", ") + (members.count > 6 ? ", …" : "")
        let kind = read.contains("resource_changes") || read.contains("planned_values")
            ? "they are written for plan JSON ('terraform show -json PLANFILE')"
            : read.contains("resource") || read.contains("module") || read.contains("variable")
                ? "they are written for .tf files" : "they read another kind of input"
        return "the policies read \(wanted), but \(file) has none of them (\(has)), so they would judge nothing: \(kind); give them that input, or point policies.path at the policies written for this one"
    }

    /// conftest's built-ins, which only the OPA library engine provides besides conftest itself.
    public static let conftestBuiltins = ["parse_config", "parse_config_file", "parse_combined_config_files"]

    /// An engine error, with what to do when it is a conftest built-in the engine lacks.
    static func explained(_ error: PolicyError, engine: String) -> PolicyError {
        guard case .evaluation(let name, let message) = error,
              let builtin = conftestBuiltins.reversed().first(where: { names(message, "undefined function \($0)") || names(message, "Function not found: \($0)") })
        else { return error }
        return .evaluation(engine: name, message: message + "; '\(builtin)' is a conftest built-in, which \(engine) does not provide: use policies.engine: opa (the OPA library, where tollgate provides it) or conftest")
    }

    /// Whether `message` holds `phrase` as a whole name: `undefined function parse_config` is not
    /// named by `undefined function parse_config_yaml`.
    static func names(_ message: String, _ phrase: String) -> Bool {
        var rest = message[...]
        while let found = rest.range(of: phrase) {
            let next = rest[found.upperBound...].first
            if next.map({ !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) ?? true { return true }
            rest = rest[found.upperBound...]
        }
        return false
    }

    /// Evaluates every namespace's document once and collects the messages.
    public static func check(_ request: PolicyRequest, on engine: some RegoQueryEngine) async throws -> PolicyReport {
        let modules = request.modules.filter { !$0.isTest }
        let values: [JSONValue?]
        do {
            values = try await engine.evaluate(modules: modules, data: request.data, input: request.input,
                                               queries: request.namespaces.map { "data.\($0)" })
        } catch let error as PolicyError {
            throw explained(error, engine: engine.name)
        }
        var messages: [PolicyMessage] = []
        var exceptions: [PolicyException] = []
        for (namespace, value) in zip(request.namespaces, values) {
            let judged = judge(namespace: namespace, document: value)
            messages += judged.messages
            exceptions += judged.exceptions
        }
        return PolicyReport(engine: engine.name, messages: messages, exceptions: exceptions)
    }

    /// What an engine error says about `file`: each line that names it (`deletes_test.rego:5: …`),
    /// from where it does.
    static func lines(of message: String, naming file: String) -> [String] {
        let pathCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")
        return message.split(separator: "\n").compactMap { line in
            var search = line[...]
            while let range = search.range(of: file + ":") {
                if range.lowerBound == line.startIndex || !pathCharacters.contains(line[line.index(before: range.lowerBound)]) {
                    return line[range.lowerBound...].trimmingCharacters(in: .whitespaces)
                }
                search = line[range.upperBound...]
            }
            return nil
        }
    }

    /// The modules that compile together, and for each one that does not, the engine's words.
    /// A module the engine names in a compile error is set aside and the rest are tried again.
    static func compiling(_ modules: [PolicyModule], data: JSONValue, on engine: some RegoQueryEngine) async throws -> (usable: [PolicyModule], broken: [String: String], unexplained: String?) {
        var usable = modules
        var broken: [String: String] = [:]
        while !usable.isEmpty {
            do {
                _ = try await engine.evaluate(modules: usable, data: data, input: nil, queries: ["true"])
                return (usable, broken, nil)
            } catch let error as PolicyError {
                let message = explained(error, engine: engine.name).description
                let named = usable.filter { !lines(of: message, naming: $0.path).isEmpty }
                guard !named.isEmpty else { return (usable, broken, message) }
                for module in named {
                    broken[module.path] = lines(of: message, naming: module.path).joined(separator: "; ")
                }
                usable.removeAll { module in named.contains { $0.path == module.path } }
            }
        }
        return (usable, broken, nil)
    }

    /// Runs each test rule on its own, so one failing rule cannot hide another. A file that does not
    /// compile (a syntax error, a built-in the engine lacks) makes its own tests, and the tests of
    /// the packages it defines, errors naming it; every other test still runs.
    public static func test(modules: [PolicyModule], data: JSONValue, on engine: some RegoQueryEngine) async throws -> [PolicyTestResult] {
        let rules = tests(in: modules)
        let (usable, broken, unexplained) = try await compiling(modules, data: data, on: engine)
        // The packages whose rules are (partly) in a module set aside.
        var brokenPackages: [String: String] = [:]
        for module in modules where !module.isTest && broken[module.path] != nil {
            if let package = package(of: module), brokenPackages[package] == nil { brokenPackages[package] = module.path }
        }
        var results: [PolicyTestResult] = []
        for rule in rules {
            if let unexplained {
                results.append(PolicyTestResult(name: rule.reference, file: rule.file, outcome: .error, message: unexplained))
                continue
            }
            if let reason = broken[rule.file] {
                results.append(PolicyTestResult(name: rule.reference, file: rule.file, outcome: .error, message: "\(rule.file) does not compile: \(reason)"))
                continue
            }
            if let library = brokenPackages[rule.package] {
                results.append(PolicyTestResult(name: rule.reference, file: rule.file, outcome: .error,
                                                message: "package \(rule.package) is partly in \(library), which does not compile: \(broken[library] ?? "")"))
                continue
            }
            do {
                let value = try await engine.evaluate(modules: usable, data: data, input: nil, queries: [rule.reference]).first ?? nil
                switch value {
                case .bool(true)?: results.append(PolicyTestResult(name: rule.reference, file: rule.file, outcome: .pass))
                case nil: results.append(PolicyTestResult(name: rule.reference, file: rule.file, outcome: .fail, message: "undefined"))
                case let other?: results.append(PolicyTestResult(name: rule.reference, file: rule.file, outcome: .fail,
                                                                 message: "evaluated to \(String(decoding: CanonicalJSON.data(other), as: UTF8.self))"))
                }
            } catch let error as PolicyError {
                results.append(PolicyTestResult(name: rule.reference, file: rule.file, outcome: .error, message: explained(error, engine: engine.name).description))
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

/// Finds `input.NAME` and `input["NAME"]` in Rego source, outside comments and strings.
struct InputScanner {
    let code: [UInt8]
    var index = 0

    init(_ code: [UInt8]) { self.code = code }

    static func isNamePart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }

    func byte(_ offset: Int) -> UInt8? { index + offset < code.count ? code[index + offset] : nil }

    /// Moves past a string that starts at `index` (`"…"` with escapes, or a raw `` `…` ``) and returns its text.
    mutating func string() -> String {
        let quote = code[index]
        index += 1
        let start = index
        while index < code.count, code[index] != quote {
            if quote == UInt8(ascii: "\""), code[index] == UInt8(ascii: "\\") { index += 1 }
            index += 1
        }
        let text = String(decoding: code[start..<min(index, code.count)], as: UTF8.self)
        index += 1
        return text
    }

    mutating func members() -> Set<String> {
        var members: Set<String> = []
        var previous: UInt8 = UInt8(ascii: " ")
        while index < code.count {
            let current = code[index]
            switch current {
            case UInt8(ascii: "#"):
                while index < code.count, code[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "`"):
                _ = string()
            case _ where Self.isNamePart(current):
                let start = index
                while index < code.count, Self.isNamePart(code[index]) { index += 1 }
                let word = String(decoding: code[start..<index], as: UTF8.self)
                guard word == "input", previous != UInt8(ascii: "."), !Self.isNamePart(previous) else { break }
                if byte(0) == UInt8(ascii: "."), let next = byte(1), Self.isNamePart(next) {
                    index += 1
                    let nameStart = index
                    while index < code.count, Self.isNamePart(code[index]) { index += 1 }
                    members.insert(String(decoding: code[nameStart..<index], as: UTF8.self))
                } else if byte(0) == UInt8(ascii: "["), byte(1) == UInt8(ascii: "\"") {
                    index += 1
                    members.insert(string())
                }
                previous = UInt8(ascii: "a")
                continue
            default:
                index += 1
            }
            previous = current
        }
        return members
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
