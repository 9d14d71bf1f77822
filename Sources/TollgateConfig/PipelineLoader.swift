import Foundation
import TollgateCore
import Yams

/// Reads `tollgate.yaml` into a `Pipeline`, reporting every problem with file, line and column.
public enum PipelineLoader {
    public static let defaultFileName = "tollgate.yaml"

    /// The outcome of reading a pipeline file: the model when it could be built, and every finding.
    public struct Result: Sendable {
        public var pipeline: Pipeline?
        public var diagnostics: [Diagnostic]

        /// The pipeline, when there is one and no finding is an error.
        public var validPipeline: Pipeline? { diagnostics.hasErrors ? nil : pipeline }
    }

    /// Reads and validates the file at `path`.
    public static func load(path: String) -> Result {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            let message = exists ? "cannot read pipeline file '\(path)'" : "no pipeline file at '\(path)'"
            let hint = exists ? "check its permissions" : "run 'tollgate init' to create one, or pass --config PATH"
            return Result(pipeline: nil, diagnostics: [Diagnostic(at: nil, message, hint: hint)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return Result(pipeline: nil, diagnostics: [Diagnostic(at: SourceLocation(file: path, line: 1, column: 1),
                                                                  "pipeline file is not UTF-8 text", hint: "save it as UTF-8")])
        }
        return parse(text, file: path, baseDirectory: url.deletingLastPathComponent().standardizedFileURL.path)
    }

    /// Parses and validates pipeline YAML; `file` names it in diagnostics and `baseDirectory`
    /// anchors its relative paths.
    public static func parse(_ text: String, file: String, baseDirectory: String) -> Result {
        let reader = YAMLReader(file: file)
        if let (line, column) = aliasExpansionOverflow(text) {
            return Result(pipeline: nil, diagnostics: [Diagnostic(at: SourceLocation(file: file, line: line, column: column),
                                                                  "aliases add more than \(maxValues) values to the file once expanded",
                                                                  hint: "a pipeline file needs a few hundred; write the value out instead of aliasing aliases")])
        }
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text, Resolver.basic) else {
                return Result(pipeline: nil, diagnostics: [Diagnostic(at: SourceLocation(file: file, line: 1, column: 1),
                                                                      "pipeline file is empty",
                                                                      hint: "run 'tollgate init' for a starting point")])
            }
            root = composed
            if let deep = tooDeep(root) {
                return Result(pipeline: nil, diagnostics: [Diagnostic(at: deep.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) },
                                                                      "nested deeper than \(maxNesting)",
                                                                      hint: "a pipeline file needs a few levels; flatten this value")])
            }
        } catch let error as YamlError {
            return Result(pipeline: nil, diagnostics: [syntaxDiagnostic(error, file: file)])
        } catch {
            return Result(pipeline: nil, diagnostics: [Diagnostic(at: nil, "cannot parse '\(file)': \(error)")])
        }
        let pipeline = PipelineReader(reader: reader, file: file, baseDirectory: baseDirectory).read(root)
        var diagnostics = reader.diagnostics
        if let pipeline, !diagnostics.hasErrors {
            let canonical = CanonicalPath()
            diagnostics += PipelineValidator.validate(pipeline, canonicalPath: canonical.resolve)
        }
        diagnostics.sort { ($0.location?.line ?? 0, $0.location?.column ?? 0) < ($1.location?.line ?? 0, $1.location?.column ?? 0) }
        return Result(pipeline: pipeline, diagnostics: diagnostics)
    }

    /// How deep mappings and lists may nest in a pipeline file. Real ones use about six levels;
    /// the limit keeps every walk over the tree far from the end of the stack. libyaml itself
    /// stops at 1,000 levels, before the tree is built, and that is reported the same way.
    public static let maxNesting = 128

    /// The first node nested deeper than `maxNesting`, found without recursion.
    static func tooDeep(_ root: Node) -> Node? {
        var pending: [(Node, Int)] = [(root, 1)]
        while let (node, depth) = pending.popLast() {
            if depth > maxNesting { return node }
            switch node {
            case .mapping(let mapping): pending += mapping.reversed().map { ($0.value, depth + 1) }
            case .sequence(let sequence): pending += sequence.reversed().map { ($0, depth + 1) }
            case .scalar, .alias: break
            }
        }
        return nil
    }

    static func syntaxDiagnostic(_ error: YamlError, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        switch error {
        case let .parser(_, problem, mark, _) where problem.hasPrefix("Maximum nesting level"), let .scanner(_, problem, mark, _) where problem.hasPrefix("Maximum nesting level"):
            return Diagnostic(at: at(mark), "nested deeper than \(maxNesting)", hint: "a pipeline file needs a few levels; flatten this value")
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            return Diagnostic(at: at(mark), "YAML syntax error: \(detail)", hint: "fix the indentation or quoting at this spot")
        case let .duplicatedKeysInMapping(duplicates, context):
            return Diagnostic(at: at(context.mark),
                              "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping",
                              hint: "keep one of them")
        default:
            return Diagnostic(at: SourceLocation(file: file, line: 1, column: 1), "YAML error: \(error)")
        }
    }
}

/// Builds each part of the model from its YAML node.
struct PipelineReader {
    let reader: YAMLReader
    let file: String
    let baseDirectory: String

    static let topKeys = ["version", "engine", "main_branch", "stacks", "environments", "approvers", "policies", "lint", "ephemeral", "stateful_types", "store"]
    static let lintKeys = ["env_inputs", "expected_differences"]
    static let engineKeys = ["binary", "version", "path", "provider_mirror"]
    static let stackKeys = ["name", "path", "depends_on"]
    static let environmentKeys = ["name", "account", "identity", "backend", "gate", "checks", "secrets", "require_signed_commits"]
    static let backendKeys = ["type", "settings"]
    static let gateKeys = ["type", "required", "approvers", "max_plan_age"]
    static let policyKeys = ["path", "namespaces", "engine"]
    static let nameRule = "start with a lowercase letter and use only a-z, 0-9, '-' and '_'"

    func read(_ root: Node) -> Pipeline? {
        guard let top = reader.mapping(root, "the pipeline file", allowed: Self.topKeys, required: ["stacks", "environments"]) else {
            return nil
        }
        if let versionNode = top["version"], let version = reader.integer(versionNode, "'version'"), version.value != 1 {
            reader.error(versionNode, "pipeline file version \(version.value) is not supported", hint: "this tollgate reads version 1")
        }
        var pipeline = Pipeline(file: file, baseDirectory: baseDirectory)
        if let node = top["engine"], let engine = readEngine(node) { pipeline.engine = engine }
        if let node = top["main_branch"], let branch = reader.nonEmptyString(node, "'main_branch'") {
            pipeline.mainBranch = branch.value
        }
        pipeline.stacks = reader.sequence(top["stacks"], "'stacks'")?.compactMap(readStack) ?? []
        pipeline.environments = reader.sequence(top["environments"], "'environments'")?.compactMap(readEnvironment) ?? []
        if let node = top["approvers"] { pipeline.approversFile = reader.nonEmptyString(node, "'approvers' (the allowed_signers path)") }
        if let node = top["policies"] { pipeline.policies = readPolicies(node) }
        if let node = top["ephemeral"] { pipeline.ephemeral = readEphemeral(node) }
        if let node = top["store"] { pipeline.store = readStore(node) }
        for type in reader.strings(top["stateful_types"], "'stateful_types'") ?? [] {
            guard !type.value.isEmpty, type.value.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
                reader.report(Diagnostic(at: type.location, "'\(type.value)' is not a resource type",
                                         hint: "write the type as in the code, like 'aws_db_instance' or 'google_sql_database_instance'"))
                continue
            }
            pipeline.statefulTypes.append(type.value)
        }
        if let node = top["lint"], let fields = reader.mapping(node, "'lint'", allowed: Self.lintKeys) {
            if let inputs = fields["env_inputs"].flatMap({ reader.strings($0, "'lint.env_inputs'") }) {
                for input in inputs where !(input.value.hasPrefix("var.") || input.value.hasPrefix("local.")) {
                    reader.report(Diagnostic(at: input.location, "'\(input.value)' is not an input reference", hint: "write it as var.NAME or local.NAME"))
                }
                pipeline.lint.envInputs = inputs.map(\.value)
            }
            if let names = fields["expected_differences"].flatMap({ reader.strings($0, "'lint.expected_differences'") }) {
                pipeline.lint.expectedDifferences = names.map(\.value)
            }
        }
        return pipeline
    }

    func readEngine(_ node: Node) -> EngineSpec? {
        guard let fields = reader.mapping(node, "'engine'", allowed: Self.engineKeys) else { return nil }
        var spec = EngineSpec()
        if let binaryNode = fields["binary"], let name = reader.string(binaryNode, "'engine.binary'") {
            if let binary = EngineSpec.Binary(rawValue: name.value) {
                spec.binary = binary
            } else {
                let names = EngineSpec.Binary.allCases.map(\.rawValue)
                reader.error(binaryNode, "unknown engine '\(name.value)'",
                             hint: Suggestion.closest(to: name.value, in: names).map { "did you mean '\($0)'?" }
                                ?? "use one of: \(names.joined(separator: ", "))")
            }
        }
        if let versionNode = fields["version"], let text = reader.string(versionNode, "'engine.version'") {
            if let constraint = VersionConstraint(parsing: text.value) {
                spec.version = Located(constraint, at: text.location)
            } else {
                reader.error(versionNode, "'\(text.value)' is not a version constraint",
                             hint: "write it like '>= 1.0.0, < 2.0.0' or '~> 1.5'")
            }
        }
        if let pathNode = fields["path"] { spec.path = reader.nonEmptyString(pathNode, "'engine.path'")?.value }
        if let mirrorNode = fields["provider_mirror"] {
            spec.providerMirror = reader.nonEmptyString(mirrorNode, "'engine.provider_mirror'")?.value
        }
        return spec
    }

    func readStack(_ node: Node) -> Stack? {
        guard let fields = reader.mapping(node, peekName(node).map { "stack '\($0)'" } ?? "a stack", allowed: Self.stackKeys, required: ["name"]),
              let name = readName(fields["name"], kind: "stack") else { return nil }
        let context = "stack '\(name.value)'"
        let path = fields["path"].flatMap { reader.nonEmptyString($0, "'path' of \(context)")?.value }
        let dependsOn = fields["depends_on"].flatMap { reader.strings($0, "'depends_on' of \(context)") } ?? []
        return Stack(name: name, path: path, dependsOn: dependsOn)
    }

    /// The `name` of a mapping, if it has a plain one, so messages about it can say which it is.
    func peekName(_ node: Node) -> String? {
        guard case .mapping(let mapping) = node, let name = mapping["name"], case .scalar = name else { return nil }
        return name.string
    }

    func readName(_ node: Node?, kind: String) -> Located<String>? {
        guard let node, let name = reader.nonEmptyString(node, "the \(kind) name") else { return nil }
        let valid = name.value.first.map { $0.isLowercase && $0.isASCII } == true
            && name.value.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "_" }
        if !valid {
            reader.error(node, "\(kind) name '\(name.value)' is not a valid name", hint: "names must \(Self.nameRule)")
            return nil
        }
        return name
    }

    func readEnvironment(_ node: Node) -> Environment? {
        guard let fields = reader.mapping(node, peekName(node).map { "environment '\($0)'" } ?? "an environment", allowed: Self.environmentKeys,
                                          required: ["name", "account", "identity", "backend", "gate"]),
              let name = readName(fields["name"], kind: "environment") else { return nil }
        let context = "environment '\(name.value)'"
        let account = reader.nonEmptyString(fields["account"], "'account' of \(context)")
        let identity = reader.nonEmptyString(fields["identity"], "'identity' of \(context)")
        let backend = fields["backend"].flatMap { readBackend($0, context: context) }
        let gate = fields["gate"].flatMap { readGate($0, context: context) }
        let checks = fields["checks"].flatMap { readChecks($0, context: context) } ?? []
        let secrets = fields["secrets"].flatMap { readSecrets($0, context: context) } ?? []
        let signed = reader.boolean(fields["require_signed_commits"], "'require_signed_commits' of \(context)")
        guard let account, let identity, let backend, let gate else { return nil }
        return Environment(name: name, account: account, identity: identity, backend: backend,
                           gate: gate, checks: checks, secrets: secrets, requireSignedCommits: signed?.value ?? false)
    }

    func readBackend(_ node: Node, context: String) -> Backend? {
        guard let fields = reader.mapping(node, "'backend' of \(context)", allowed: Self.backendKeys, required: ["type"]),
              let type = reader.nonEmptyString(fields["type"], "'backend.type' of \(context)") else { return nil }
        var settings: [Backend.Setting] = []
        if let settingsNode = fields["settings"] {
            guard case .mapping(let mapping) = settingsNode else {
                reader.error(settingsNode, "'backend.settings' of \(context) must be a mapping, not \(reader.describe(settingsNode))")
                return nil
            }
            for (key, value) in mapping {
                guard let keyName = key.string else { continue }
                let location = reader.location(value)
                switch (value, value.tagName) {
                case (.scalar, .bool) where value.boolean != nil:
                    settings.append(.init(key: keyName, value: .bool(value.boolean!), location: location))
                case (.scalar, .int) where value.int != nil:
                    settings.append(.init(key: keyName, value: .integer(value.int!), location: location))
                case (.scalar, .null):
                    reader.error(value, "backend setting '\(keyName)' of \(context) has no value")
                case (.scalar, _): settings.append(.init(key: keyName, value: .string(value.string!), location: location))
                default:
                    reader.error(value, "backend setting '\(keyName)' of \(context) must be a string, number or boolean, not \(reader.describe(value))")
                }
            }
        }
        return Backend(type: type, settings: settings)
    }

    func readGate(_ node: Node, context: String) -> Located<Gate>? {
        let kinds = ["auto", "on-merge", "approval"]
        let location = reader.location(node)
        if case .scalar = node {
            guard let kind = reader.string(node, "'gate' of \(context)") else { return nil }
            switch kind.value {
            case "auto": return Located(.auto, at: location)
            case "on-merge": return Located(.onMerge, at: location)
            case "approval":
                reader.error(node, "approval gate of \(context) is missing its settings",
                             hint: "write it as a mapping with 'type: approval', 'required', 'approvers' and 'max_plan_age'")
                return nil
            default:
                reader.error(node, "unknown gate '\(kind.value)' in \(context)",
                             hint: Suggestion.closest(to: kind.value, in: kinds).map { "did you mean '\($0)'?" }
                                ?? "use one of: \(kinds.joined(separator: ", "))")
                return nil
            }
        }
        guard let fields = reader.mapping(node, "'gate' of \(context)", allowed: Self.gateKeys, required: ["type"]),
              let kind = reader.string(fields["type"], "'gate.type' of \(context)") else { return nil }
        switch kind.value {
        case "auto", "on-merge":
            for key in ["required", "approvers", "max_plan_age"] where fields[key] != nil {
                reader.error(fields.keyNode(key), "'\(key)' only applies to an approval gate, but \(context) has gate '\(kind.value)'",
                             hint: "remove it, or set 'type: approval'")
            }
            return Located(kind.value == "auto" ? .auto : .onMerge, at: location)
        case "approval":
            let missing = ["required", "approvers", "max_plan_age"].filter { fields[$0] == nil }
            if !missing.isEmpty {
                reader.error(node, "approval gate of \(context) is missing \(missing.map { "'\($0)'" }.joined(separator: ", "))",
                             hint: "an approval gate needs 'required' (how many), 'approvers' (who) and 'max_plan_age' (e.g. 24h)")
                return nil
            }
            let required = reader.integer(fields["required"], "'gate.required' of \(context)")
            let approvers = reader.strings(fields["approvers"], "'gate.approvers' of \(context)")
            var age: PlanAge?
            if let ageNode = fields["max_plan_age"], let text = reader.string(ageNode, "'gate.max_plan_age' of \(context)") {
                age = PlanAge(parsing: text.value)
                if age == nil {
                    reader.error(ageNode, "'\(text.value)' is not a duration", hint: "write it like '30m', '24h' or '7d'")
                }
            }
            guard let required, let approvers, let age else { return nil }
            return Located(.approval(ApprovalGate(required: required.value, approvers: approvers.map(\.value), maxPlanAge: age)),
                           at: location)
        default:
            reader.error(fields["type"], "unknown gate '\(kind.value)' in \(context)",
                         hint: Suggestion.closest(to: kind.value, in: kinds).map { "did you mean '\($0)'?" }
                            ?? "use one of: \(kinds.joined(separator: ", "))")
            return nil
        }
    }

    func readChecks(_ node: Node, context: String) -> [Located<Check>]? {
        guard let items = reader.strings(node, "'checks' of \(context)") else { return nil }
        let names = Check.allCases.map(\.rawValue)
        return items.compactMap { item in
            if let check = Check(rawValue: item.value) { return Located(check, at: item.location) }
            reader.report(Diagnostic(at: item.location, "unknown check '\(item.value)' in \(context)",
                                     hint: Suggestion.closest(to: item.value, in: names).map { "did you mean '\($0)'?" }
                                        ?? "use any of: \(names.joined(separator: ", "))"))
            return nil
        }
    }

    func readSecrets(_ node: Node, context: String) -> [Secret]? {
        guard case .mapping(let mapping) = node else {
            reader.error(node, "'secrets' of \(context) must be a mapping of name to reference, not \(reader.describe(node))")
            return nil
        }
        var secrets: [Secret] = []
        for (key, value) in mapping {
            guard let name = key.string else { continue }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), name.first?.isNumber == false else {
                reader.error(key, "secret name '\(name)' in \(context) is not a valid Terraform variable name",
                             hint: "use letters, digits and '_'; the value reaches the engine as TF_VAR_\(name)")
                continue
            }
            // Never echo the value: it may be the very secret that should not be in the file.
            guard case .scalar = value, let text = value.string, value.tagName == .str,
                  let reference = SecretReference(parsing: text) else {
                reader.error(value, "secret '\(name)' in \(context) is not a reference (the value is not shown)",
                             hint: "give a reference instead of a literal value: 'env:VARIABLE', 'file:PATH' or 'cmd:COMMAND'")
                continue
            }
            secrets.append(Secret(name: name, reference: reference, location: reader.location(value)))
        }
        return secrets
    }

    static let ephemeralKeys = ["backend", "ttl", "tests", "like"]
    static let testKeys = ["name", "run"]

    func readEphemeral(_ node: Node) -> EphemeralSettings? {
        guard let fields = reader.mapping(node, "'ephemeral'", allowed: Self.ephemeralKeys, required: ["backend"]),
              let backend = fields["backend"].flatMap({ readBackend($0, context: "'ephemeral'") }) else { return nil }
        var settings = EphemeralSettings(backend: backend)
        if let ttlNode = fields["ttl"], let text = reader.string(ttlNode, "'ephemeral.ttl'") {
            if let ttl = PlanAge(parsing: text.value) {
                settings.ttl = ttl
            } else {
                reader.error(ttlNode, "'\(text.value)' is not a duration", hint: "write it like '30m', '4h' or '1d'")
            }
        }
        settings.like = fields["like"].flatMap { reader.nonEmptyString($0, "'ephemeral.like'") }?.value
        for item in reader.sequence(fields["tests"], "'ephemeral.tests'") ?? [] {
            guard let test = reader.mapping(item, "each item of 'ephemeral.tests'", allowed: Self.testKeys, required: ["name", "run"]),
                  let name = reader.nonEmptyString(test["name"], "'name' of a test"),
                  let run = reader.nonEmptyString(test["run"], "'run' of test '\(name.value)'") else { continue }
            settings.tests.append(EphemeralTest(name: name.value, run: run.value))
        }
        return settings
    }

    func readPolicies(_ node: Node) -> PolicySettings? {
        guard let fields = reader.mapping(node, "'policies'", allowed: Self.policyKeys) else { return nil }
        var settings = PolicySettings()
        if let path = fields["path"].flatMap({ reader.nonEmptyString($0, "'policies.path'") }) { settings.path = path.value }
        if let namespaces = fields["namespaces"].flatMap({ reader.strings($0, "'policies.namespaces'") }) {
            settings.namespaces = namespaces.map(\.value)
        }
        if let engine = fields["engine"].flatMap({ reader.string($0, "'policies.engine'") }) {
            if let choice = PolicyEngineChoice(rawValue: engine.value) {
                settings.engine = choice
            } else {
                let names = PolicyEngineChoice.allCases.map(\.rawValue)
                reader.error(fields["engine"], "unknown policy engine '\(engine.value)' in 'policies.engine'",
                             hint: Suggestion.closest(to: engine.value, in: names).map { "did you mean '\($0)'?" }
                                ?? "use one of: \(names.joined(separator: ", "))")
            }
        }
        return settings
    }

    static let storeKeys = ["url_env", "key", "encrypt_artifacts"]

    /// The `store:` block. No message echoes a value here: a misplaced one may be the database
    /// password or the artifact key.
    func readStore(_ node: Node) -> StoreSettings? {
        // 'url' is read only to refuse it with its own message, so it is never suggested for a typo.
        let present = Self.storeKeys + (hasKey(node, "url") ? ["url"] : [])
        guard let fields = reader.mapping(node, "'store'", allowed: present) else { return nil }
        var settings = StoreSettings(location: reader.location(node))
        if let value = fields["url"] {
            let hint = if case .scalar = value, let text = value.string, case .environment(let name)? = SecretReference(parsing: text) {
                "name the variable with 'url_env: \(name)' instead"
            } else {
                "put the URL in an environment variable and name it with 'url_env', like 'url_env: \(StoreSettings.defaultURLEnv)'"
            }
            reader.error(fields.keyNode("url"), "'store.url' would put the database URL, and any password in it, in the pipeline file (the value is not shown)",
                         hint: hint)
        }
        if let value = fields["url_env"] {
            if case .scalar = value, value.tagName == .str, let name = value.string, Self.isVariableName(name) {
                settings.urlEnv = Located(name, at: reader.location(value))
            } else {
                reader.error(value, "'store.url_env' must be the name of an environment variable (the value is not shown)",
                             hint: "put the database URL in an environment variable and write its name, like 'url_env: \(StoreSettings.defaultURLEnv)'")
            }
        }
        if let value = fields["key"] {
            if case .scalar = value, value.tagName == .str, let text = value.string, let reference = SecretReference(parsing: text) {
                settings.key = Located(reference, at: reader.location(value))
            } else {
                reader.error(value, "'store.key' is not a reference (the value is not shown)",
                             hint: "give a reference to the artifact key instead of the key itself: 'env:VARIABLE', 'file:PATH' or 'cmd:COMMAND'")
            }
        }
        if let flag = reader.boolean(fields["encrypt_artifacts"], "'store.encrypt_artifacts'") { settings.encryptArtifacts = flag }
        return settings
    }

    func hasKey(_ node: Node, _ name: String) -> Bool {
        guard case .mapping(let mapping) = node else { return false }
        return mapping.contains { $0.key.string == name }
    }

    /// A POSIX environment variable name: ASCII letters, digits and '_', not starting with a digit.
    static func isVariableName(_ text: String) -> Bool {
        guard let first = text.first, !first.isNumber else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

/// A path with its symlinks resolved as the file system will when the engine writes there. Each
/// component that is a symlink is followed with realpath(3); the part that does not exist yet is kept
/// as written under its resolved ancestor, so a state file that does not exist yet is still placed
/// where its symlinked directory really is.
///
/// Directories are resolved once and remembered, so the state paths of thousands of stacks under one
/// directory cost one `lstat` each.
final class CanonicalPath {
    private var directories: [String: String] = [:]

    func resolve(_ path: String) -> String {
        guard path != "/", !path.isEmpty else { return path }
        let parent = (path as NSString).deletingLastPathComponent
        let last = (path as NSString).lastPathComponent
        guard !parent.isEmpty, last != ".", last != ".." else {
            guard let resolved = realpath(path, nil) else { return path }
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let base: String
        if let known = directories[parent] {
            base = known
        } else {
            base = parent == "/" ? parent : resolve(parent)
            directories[parent] = base
        }
        if isSymlink(path), let resolved = realpath(path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        return (base == "/" ? "" : base) + "/" + last
    }

    /// Whether the last component of `path` is a symlink; a path that does not exist is not one.
    private func isSymlink(_ path: String) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0 else { return false }
        return status.st_mode & S_IFMT == S_IFLNK
    }
}

