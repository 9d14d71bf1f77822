import Foundation
import HCL

/// What the linter needs to know about the repository, independent of how it was found.
public struct LintInput: Sendable {
    public struct Stack: Sendable, Codable, Equatable {
        public var name: String
        /// Relative to the repository root.
        public var path: String

        public init(name: String, path: String) {
            self.name = name
            self.path = path
        }
    }

    /// Files by path relative to the repository root.
    public var files: [String: [UInt8]]
    public var stacks: [Stack]
    public var environments: [String]
    /// Inputs that carry the environment name (`var.env`, `local.env`, …).
    public var environmentInputs: [String]
    /// Variables that may be set for only some environments without a config-skew note.
    public var expectedDifferences: [String]
    /// Directories of code that are not stacks (modules the stacks call); their files get the code rules too.
    public var modules: [String]
    /// Whether every environment keeps its values in `config/ENV/`, so a required variable with
    /// no value there is a finding; false when the environments were found some other way.
    public var expectsConfig: Bool

    public static let defaultEnvironmentInputs = ["var.env", "var.environment", "var.stage", "var.env_name", "var.environment_name",
                                                  "local.env", "local.environment", "local.stage"]

    public init(files: [String: [UInt8]], stacks: [Stack], environments: [String], environmentInputs: [String] = defaultEnvironmentInputs,
                expectedDifferences: [String] = [], modules: [String] = ["modules"], expectsConfig: Bool = true) {
        self.files = files
        self.stacks = stacks
        self.environments = environments
        self.environmentInputs = environmentInputs
        self.expectedDifferences = expectedDifferences
        self.modules = modules
        self.expectsConfig = expectsConfig
    }
}

/// Rules over HCL syntax trees and the pipeline's layout: one code, many configs, isolation.
public struct Linter: Sendable {
    public var input: LintInput

    public init(input: LintInput) { self.input = input }

    var parsed: [String: HCLFile] {
        var result: [String: HCLFile] = [:]
        for (path, bytes) in input.files where path.hasSuffix(".tf") || path.hasSuffix(".tfvars") {
            result[path] = HCLParser.parse(bytes: bytes)
        }
        for (path, bytes) in input.files where path.hasSuffix(".tf.json") {
            result[path] = HCLJSON.parse(bytes: bytes)
        }
        return result
    }

    /// Every finding, sorted by file and position, with inline suppressions applied.
    public func run() -> [Finding] {
        let files = parsed
        var findings: [Finding] = []
        for (path, file) in files {
            for diagnostic in file.diagnostics {
                findings.append(Finding(rule: "hcl-syntax", severity: .error, file: path, range: diagnostic.range, message: diagnostic.message))
            }
        }
        let code = files.filter { ($0.key.hasSuffix(".tf") || $0.key.hasSuffix(".tf.json")) && isCode($0.key) }
        for (path, file) in code {
            findings += codeRules(path: path, file: file)
        }
        findings += configRules(files)
        findings += lockfiles()
        findings += environmentDirectories()
        findings = suppress(findings, files: files)
        return findings.sorted { ($0.file, $0.range.start.offset, $0.rule) < ($1.file, $1.range.start.offset, $1.rule) }
    }

    func isCode(_ path: String) -> Bool {
        input.modules.contains { Self.inside(path, $0) } || input.stacks.contains { Self.inside(path, $0.path) }
    }

    /// Whether `path` is directly or deeply inside `directory`; the repository root ("" or ".")
    /// holds only its own top-level files.
    static func inside(_ path: String, _ directory: String) -> Bool {
        directory.isEmpty || directory == "." ? !path.contains("/") : path.hasPrefix(directory + "/")
    }

    static func directlyInside(_ path: String, _ directory: String) -> Bool {
        directory.isEmpty || directory == "." ? !path.contains("/")
            : path.hasPrefix(directory + "/") && !path.dropFirst(directory.count + 1).contains("/")
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty || directory == "." ? name : directory + "/" + name
    }

    // MARK: - Code rules

    func codeRules(path: String, file: HCLFile) -> [Finding] {
        var findings: [Finding] = []
        func add(_ rule: String, _ range: HCLRange, _ message: String) {
            findings.append(Finding(rule: rule, severity: LintRules.severity(rule), file: path, range: range, message: message))
        }
        let envInputs = Set(input.environmentInputs + ["terraform.workspace"])
        let envNames = Set(input.environments)
        // Locals that are maps keyed by environment names: indexing them by the env is a branch too.
        var perEnvironmentLocals: Set<String> = []
        for block in file.body.blocks(ofType: "locals") {
            for attribute in block.body.attributes {
                if case .object(let items, _) = unwrap(attribute.value), keysAreEnvironments(items, envNames) {
                    perEnvironmentLocals.insert("local." + attribute.name)
                }
            }
        }

        for finding in environmentFindings(file, inputs: envInputs, names: envNames, perEnvironmentLocals: perEnvironmentLocals) {
            add(finding.rule, finding.range, finding.message)
        }
        for expression in allExpressions(file.body) {
            expression.visit { node in
                switch node {
                case .literal(.string(let text), let range) where Self.isAccountID(text):
                    add("account-literal", range, "'\(text)' looks like a hard-coded AWS account id; set it per environment in config/ENV/ or tollgate.yaml")
                case .getAttribute(.variable("terraform", _), "workspace", let range):
                    add("workspace-as-env", range, "terraform.workspace tells environments apart; tollgate gives each environment its own backend, so use config/ENV/ values instead")
                default:
                    break
                }
                return true
            }
        }

        for block in allBlocks(file.body) {
            if block.type == "backend", !block.body.attributes.isEmpty {
                add("backend-values-in-code", block.range, "backend \"\(block.labels.first ?? "")\" sets \(block.body.attributes.map { "'\($0.name)'" }.joined(separator: ", ")) in code; leave the block empty and declare the backend per environment in tollgate.yaml")
            }
            if block.type == "provider", block.labels.first == "aws", block.body.attribute("allowed_account_ids") == nil {
                add("provider-account-unpinned", block.range, "provider \"aws\" has no allowed_account_ids; pin it to the environment's account (from a variable) so credentials for another account fail fast")
            }
            if block.type == "module", let source = block.body.attribute("source"), case .string(let text)? = source.value.literalValue {
                if let problem = Self.unpinnedModule(text, hasVersion: block.body.attribute("version") != nil, from: path) {
                    add("module-unpinned", source.range, "module \"\(block.labels.first ?? "")\": \(problem)")
                }
            }
        }
        return findings
    }

    func unwrap(_ expression: HCLExpression) -> HCLExpression {
        if case .parenthesized(let inner, _) = expression { return unwrap(inner) }
        return expression
    }

    func keysAreEnvironments(_ items: [HCLObjectItem], _ names: Set<String>) -> Bool {
        let keys = items.compactMap(\.key.objectKey)
        return !keys.isEmpty && keys.filter { names.contains($0) }.count * 2 >= keys.count
    }

    static func isAccountID(_ text: String) -> Bool {
        text.count == 12 && text.allSatisfy(\.isNumber)
    }

    static func unpinnedModule(_ source: String, hasVersion: Bool, from file: String) -> String? {
        if source.hasPrefix("./") || source.hasPrefix("../") {
            return resolve(source, from: (file as NSString).deletingLastPathComponent) == nil ? "the path '\(source)' leaves the repository" : nil
        }
        if source.hasPrefix("git::") || source.hasPrefix("github.com/") || source.hasPrefix("git@") || source.contains(".git") {
            return source.contains("ref=") ? nil : "the git source '\(source)' has no ?ref= tag or commit; pin it"
        }
        if source.hasPrefix("http://") || source.hasPrefix("https://") || source.hasPrefix("s3::") || source.hasPrefix("gcs::") {
            return nil
        }
        // A registry address: NAMESPACE/NAME/PROVIDER (optionally with a host).
        return hasVersion ? nil : "the registry module '\(source)' has no version; add version = \"x.y.z\""
    }

    /// The directory a local module source (`./x`, `../x`) names, from the calling directory ("" or
    /// "." for the top level); nil for other sources and for one that climbs above the repository.
    static func resolve(_ source: String, from directory: String) -> String? {
        guard source.hasPrefix("./") || source.hasPrefix("../") || source == "." || source == ".." else { return nil }
        var parts = directory == "." ? [] : directory.split(separator: "/").map(String.init)
        for component in source.split(separator: "/") {
            if component == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else if component != "." {
                parts.append(String(component))
            }
        }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    func allExpressions(_ body: HCLBody) -> [HCLExpression] {
        body.items.flatMap { item -> [HCLExpression] in
            switch item {
            case .attribute(let attribute): [attribute.value]
            case .block(let block): allExpressions(block.body)
            }
        }
    }

    func allBlocks(_ body: HCLBody) -> [HCLBlock] {
        body.blocks.flatMap { [$0] + allBlocks($0.body) }
    }

    // MARK: - Config rules

    func configRules(_ files: [String: HCLFile]) -> [Finding] {
        var findings: [Finding] = []
        for stack in input.stacks {
            var declared: [String: (required: Bool, range: HCLRange, file: String)] = [:]
            for (path, file) in files where Self.directlyInside(path, stack.path) && path.hasSuffix(".tf") {
                for block in file.body.blocks(ofType: "variable") {
                    guard let name = block.labels.first else { continue }
                    declared[name] = (block.body.attribute("default") == nil, block.range, path)
                }
            }
            var setBy: [String: Set<String>] = [:]
            var configs = 0
            for env in input.environments {
                var keys: [String: (String, HCLRange)] = [:]
                for name in ["common", stack.name] {
                    let path = "config/\(env)/\(name).tfvars"
                    guard let file = files[path] else { continue }
                    configs += 1
                    for attribute in file.body.attributes { keys[attribute.name] = (path, attribute.nameRange) }
                }
                for (key, (path, range)) in keys where declared[key] == nil && !path.hasSuffix("common.tfvars") {
                    findings.append(Finding(rule: "config-undeclared", severity: .error, file: path, range: range,
                                            message: "'\(key)' is set for stack '\(stack.name)' in '\(env)', but the stack declares no variable '\(key)'; declare it or remove the line"))
                }
                for (key, _) in keys { setBy[key, default: []].insert(env) }
                for (name, variable) in declared.sorted(by: { $0.key < $1.key }) where input.expectsConfig && variable.required && keys[name] == nil {
                    findings.append(Finding(rule: "config-missing", severity: .error, file: variable.file, range: variable.range,
                                            message: "variable '\(name)' of stack '\(stack.name)' has no default and no value in config/\(env)/\(stack.name).tfvars; set it there"))
                }
            }
            guard configs > 0 else { continue }
            for (key, envs) in setBy.sorted(by: { $0.key < $1.key }) where envs.count < input.environments.count && declared[key] != nil && !input.expectedDifferences.contains(key) {
                let missing = input.environments.filter { !envs.contains($0) }
                let variable = declared[key]!
                findings.append(Finding(rule: "config-skew", severity: .note, file: variable.file, range: variable.range,
                                        message: "'\(key)' is set for \(envs.sorted().joined(separator: ", ")) but not for \(missing.joined(separator: ", ")); environments should differ only on purpose"))
            }
        }
        return findings
    }

    func lockfiles() -> [Finding] {
        input.stacks.compactMap { stack in
            guard input.files[Self.join(stack.path, ".terraform.lock.hcl")] == nil else { return nil }
            let anchor = input.files.keys.filter { Self.directlyInside($0, stack.path) && $0.hasSuffix(".tf") }.sorted().first ?? stack.path
            let origin = HCLPosition(line: 1, column: 1, offset: 0)
            return Finding(rule: "lockfile-missing", severity: .warning, file: anchor, range: HCLRange(start: origin, end: origin),
                           message: "stack '\(stack.name)' has no .terraform.lock.hcl; run 'terraform init' in it and commit the lock file so every environment installs the same providers")
        }
    }

    /// `env-directory`: root modules that are near-copies per environment (`envs/prod/`, `live/stage/`).
    func environmentDirectories() -> [Finding] {
        let words = Array(Set(Assessor.environmentWords).union(input.environments))
        let directories = Similarity.environmentDirectories(input.files.keys, words: words)
        var findings: [Finding] = []
        for (i, a) in directories.enumerated() {
            for b in directories[(i + 1)...] {
                let (ratio, differing) = Similarity.compare(input.files, b.directory, a.directory)
                guard ratio >= 0.5 else { continue }
                let anchor = input.files.keys.filter { Self.directlyInside($0, b.directory) && $0.hasSuffix(".tf") }.sorted().first ?? b.directory
                let origin = HCLPosition(line: 1, column: 1, offset: 0)
                findings.append(Finding(
                    rule: "env-directory", severity: .error, file: anchor, range: HCLRange(start: origin, end: origin),
                    message: "'\(b.directory)' is a \(Int((ratio * 100).rounded()))% copy of '\(a.directory)'"
                        + (differing.isEmpty ? "" : " (differs: " + differing.prefix(3).joined(separator: " | ") + ")")
                        + "; keep one stack and put each environment's values in config/ENV/ (see 'tollgate assess')"))
            }
        }
        return findings
    }

    // MARK: - Suppressions

    /// `# tollgate:ignore RULE reason` on the finding's line or the line above silences it; a
    /// suppression without a reason is itself an error.
    func suppress(_ findings: [Finding], files: [String: HCLFile]) -> [Finding] {
        var kept: [Finding] = []
        var extra: [Finding] = []
        var suppressions: [String: [Int: [String]]] = [:]
        for (path, file) in files {
            let lines = String(decoding: file.source, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                guard let marker = line.range(of: "tollgate:ignore") else { continue }
                let words = line[marker.upperBound...].split(separator: " ")
                guard let rule = words.first else { continue }
                if words.count < 2 {
                    let position = HCLPosition(line: index + 1, column: 1, offset: 0)
                    extra.append(Finding(rule: "suppression-reason", severity: .error, file: path, range: HCLRange(start: position, end: position),
                                         message: "'tollgate:ignore \(rule)' needs a reason after the rule id"))
                    continue
                }
                suppressions[path, default: [:]][index + 1, default: []].append(String(rule))
            }
        }
        for finding in findings {
            let line = finding.range.start.line
            let rules = (suppressions[finding.file]?[line] ?? []) + (suppressions[finding.file]?[line - 1] ?? [])
            if !rules.contains(finding.rule) { kept.append(finding) }
        }
        return kept + extra
    }
}
