import Foundation
import HCL

/// Reads a Terragrunt live repository without running Terragrunt: its units (directories with a
/// `terragrunt.hcl` that no deeper one is below), the environment, account and region each sits
/// in (`env.hcl`, `account.hcl`, `region.hcl` locals, or the directory names), the module each
/// deploys, the units each depends on, its inputs and the state its root's `remote_state` gives it.
///
/// Only the functions live repositories use to find those files are evaluated
/// (`find_in_parent_folders`, `read_terragrunt_config`, `get_terragrunt_dir`, `dirname`,
/// `path_relative_to_include`…); anything else is left as written.
public enum Terragrunt {
    /// One deployable unit: one root module applied into one environment.
    public struct Unit: Sendable, Codable, Equatable {
        /// The directory of its `terragrunt.hcl`.
        public var path: String
        public var env: String
        public var stack: String
        /// `terraform { source }`, evaluated where it can be.
        public var source: String?
        /// The directories of the units it depends on (`dependency` and `dependencies` blocks).
        public var dependencies: [String]
        /// The files it includes (the root configuration, `_envcommon/*.hcl`).
        public var includes: [String]
        /// Its inputs as tfvars lines; those that are not values (dependency outputs) as comments.
        public var inputs: [String]

        public init(path: String, env: String, stack: String, source: String?, dependencies: [String], includes: [String], inputs: [String]) {
            self.path = path
            self.env = env
            self.stack = stack
            self.source = source
            self.dependencies = dependencies
            self.includes = includes
            self.inputs = inputs
        }
    }

    /// What a live repository holds.
    public struct Layout: Sendable {
        public var units: [Unit]
        /// Environments in promotion order.
        public var environments: [String]
        public var stacks: [Assessor.StackLayout]
        public var accounts: [AccountDetection.Account]
        /// The state each unit keeps, by environment and stack, from `remote_state`.
        var backends: [String: [String: Assessor.StateBackend]]
        /// Units whose environment could not be told.
        public var unplaced: [String]
    }

    /// The live repository in `files` (every `.hcl` file, by path), or nil when there is none.
    public static func read(_ files: [String: [UInt8]]) -> Layout? {
        let hcl = files.filter { $0.key.hasSuffix(".hcl") && !$0.key.hasSuffix(".terraform.lock.hcl") && !Assessor.isHarness($0.key) }
            .mapValues { HCLParser.parse(bytes: $0) }
        let configured = Set(hcl.keys.filter { ($0 as NSString).lastPathComponent == "terragrunt.hcl" }.map(directory(of:)))
        // A unit is a configured directory no other one is below; the ones above are roots.
        let unitDirectories = configured.filter { candidate in
            !candidate.split(separator: "/").contains("_envcommon")
                && !configured.contains { $0 != candidate && (candidate == "." || $0.hasPrefix(candidate + "/")) }
        }.sorted()
        guard !unitDirectories.isEmpty else { return nil }
        let context = Context(files: hcl)

        var units: [Unit] = []
        var unplaced: [String] = []
        var backends: [String: [String: Assessor.StateBackend]] = [:]
        var accountsByEnv: [String: AccountDetection.Account] = [:]
        for directory in unitDirectories {
            let root = context.rootDirectory(of: directory)
            guard let (env, envDirectory) = context.environment(of: directory, root: root) else {
                unplaced.append(directory)
                continue
            }
            let unitFile = join(directory, "terragrunt.hcl")
            let evaluator = Evaluator(context: context, unit: directory, root: root, file: unitFile)
            let included = context.includes(of: unitFile, evaluator: evaluator)
            let scopes = included.map { evaluator.with(file: $0) } + [evaluator]

            var dependencies: [String] = []
            var source: String?
            var inputs: [(String, String)] = []
            for scope in scopes {
                guard let file = hcl[scope.file] else { continue }
                for block in file.body.blocks(ofType: "dependency") {
                    if let path = block.body.attribute("config_path").flatMap({ scope.value($0.value)?.text }) {
                        dependencies.append(context.resolve(path, from: directory))
                    }
                }
                for block in file.body.blocks(ofType: "dependencies") {
                    if case .list(let paths)? = block.body.attribute("paths").flatMap({ scope.value($0.value) }) {
                        dependencies += paths.compactMap(\.text).map { context.resolve($0, from: directory) }
                    }
                }
                for block in file.body.blocks(ofType: "terraform") {
                    if let attribute = block.body.attribute("source") {
                        source = scope.value(attribute.value)?.text ?? file.text(of: attribute.value.range)
                    }
                }
                if case .object(let items, _)? = file.body.attribute("inputs")?.value {
                    for item in items {
                        guard let key = item.key.objectKey else { continue }
                        let line: String
                        if item.value.literalValue != nil {
                            line = "\(key) = \(file.text(of: item.value.range))"
                        } else if let value = scope.value(item.value), let text = value.hcl {
                            line = "\(key) = \(text)"
                        } else {
                            line = "# \(key) = \(file.text(of: item.value.range).split(separator: "\n").joined(separator: " ")) (not a value: pass it to the stack another way)"
                        }
                        inputs.removeAll { $0.0 == key }
                        inputs.append((key, line))
                    }
                }
                if let backend = remoteState(file, scope) { backends[env, default: [:]][directory] = backend }
            }
            if accountsByEnv[env] == nil, let account = context.account(of: directory, env: env, evaluator: evaluator) {
                accountsByEnv[env] = account
            }
            units.append(Unit(path: directory, env: env, stack: context.stackName(directory, below: envDirectory), source: source,
                              dependencies: Array(Set(dependencies)).sorted(), includes: included, inputs: inputs.map(\.1)))
        }

        // Two units of one environment with one stack name: name them by their whole path instead.
        var seen: [String: Int] = [:]
        for unit in units { seen["\(unit.env)/\(unit.stack)", default: 0] += 1 }
        for index in units.indices where seen["\(units[index].env)/\(units[index].stack)", default: 0] > 1 {
            units[index].stack = Assessor.validName(units[index].path.replacingOccurrences(of: "/", with: "-"))
        }

        let environments = Assessor.promotionOrder(Set(units.map(\.env)))
        let byPath = Dictionary(units.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        var stacks: [String: Assessor.StackLayout] = [:]
        for unit in units {
            var stack = stacks[unit.stack] ?? Assessor.StackLayout(name: unit.stack, paths: [:], dependsOn: [], source: unit.source)
            stack.paths[unit.env] = unit.path
            let named = unit.dependencies.compactMap { byPath[$0]?.stack }.filter { $0 != unit.stack }
            stack.dependsOn = Array(Set(stack.dependsOn + named)).sorted()
            if stack.source == nil { stack.source = unit.source }
            stacks[unit.stack] = stack
        }
        var stateByStack: [String: [String: Assessor.StateBackend]] = [:]
        for unit in units {
            if let backend = backends[unit.env]?[unit.path] { stateByStack[unit.env, default: [:]][unit.stack] = backend }
        }
        return Layout(units: units, environments: environments, stacks: stacks.values.sorted { $0.name < $1.name },
                      accounts: environments.compactMap { accountsByEnv[$0] }, backends: stateByStack, unplaced: unplaced)
    }

    /// The backend a `remote_state` block or attribute gives, with the settings that evaluate to text.
    static func remoteState(_ file: HCLFile, _ scope: Evaluator) -> Assessor.StateBackend? {
        let value: Value?
        if let block = file.body.blocks(ofType: "remote_state").first {
            var members: [(String, Value)] = []
            for attribute in block.body.attributes {
                if let evaluated = scope.value(attribute.value) { members.append((attribute.name, evaluated)) }
            }
            value = .object(members)
        } else {
            value = file.body.attribute("remote_state").flatMap { scope.value($0.value) }
        }
        guard case .object(let members)? = value, let type = members.first(where: { $0.0 == "backend" })?.1.text else { return nil }
        var settings: [(String, String)] = []
        if case .object(let config)? = members.first(where: { $0.0 == "config" })?.1 {
            settings = config.compactMap { key, value in value.text.map { (key, $0) } }
        }
        return Assessor.StateBackend(type: type, settings: settings)
    }

    static func directory(of path: String) -> String {
        LintDiscovery.directory(of: path)
    }

    static func join(_ directory: String, _ name: String) -> String {
        normalize(directory == "." || directory.isEmpty ? name : directory + "/" + name)
    }

    /// `a/b/../c/./d` → `a/c/d`; the repository root is ".".
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
        }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    static func parent(_ directory: String) -> String? {
        directory == "." || directory.isEmpty ? nil : Terragrunt.directory(of: directory)
    }

    /// A value while evaluating: what HCL can hold, with object members in source order.
    indirect enum Value {
        case string(String)
        case number(String)
        case bool(Bool)
        case list([Value])
        case object([(String, Value)])

        var text: String? {
            switch self {
            case .string(let text), .number(let text): text
            case .bool(let flag): String(flag)
            default: nil
            }
        }

        /// The value written as HCL, for a tfvars line.
        var hcl: String? {
            switch self {
            case .string(let text): "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
            case .number(let text): text
            case .bool(let flag): String(flag)
            case .list(let items):
                items.allSatisfy { $0.hcl != nil } ? "[" + items.compactMap(\.hcl).joined(separator: ", ") + "]" : nil
            case .object(let members):
                members.allSatisfy { $0.1.hcl != nil } ? "{ " + members.compactMap { key, value in value.hcl.map { "\(key) = \($0)" } }.joined(separator: ", ") + " }" : nil
            }
        }

        func member(_ name: String) -> Value? {
            switch self {
            case .object(let members): members.first { $0.0 == name }?.1
            case .list(let items): Int(name).flatMap { items.indices.contains($0) ? items[$0] : nil }
            default: nil
            }
        }
    }

    /// The parsed `.hcl` files and the questions asked of their hierarchy.
    struct Context {
        var files: [String: HCLFile]

        /// The nearest `name` in `directory` or one of its parents.
        func nearest(_ name: String, from directory: String) -> String? {
            var current: String? = directory
            while let here = current {
                let candidate = join(here, name)
                if files[candidate] != nil { return candidate }
                current = parent(here)
            }
            return nil
        }

        /// The directory of the configuration a unit includes: the nearest parent with a
        /// `terragrunt.hcl` or `root.hcl`, else the repository root.
        func rootDirectory(of unit: String) -> String {
            guard let above = parent(unit) else { return "." }
            let found = [nearest("root.hcl", from: above), nearest("terragrunt.hcl", from: above)].compactMap { $0 }
            return found.map(directory(of:)).max { $0.count < $1.count } ?? "."
        }

        /// The environment a unit is in, and the directory that says so.
        func environment(of unit: String, root: String) -> (String, String)? {
            let evaluator = Evaluator(context: self, unit: unit, root: root, file: join(unit, "terragrunt.hcl"))
            if let file = nearest("env.hcl", from: unit) {
                let locals = evaluator.with(file: file).localValues()
                let named = ["environment", "env", "env_name", "environment_name", "stage"].lazy.compactMap { name in locals.first { $0.0 == name }?.1.text }.first
                let envDirectory = directory(of: file)
                return (Assessor.validName(named ?? (envDirectory as NSString).lastPathComponent), envDirectory)
            }
            // Account- or region-wide units (`_global/`, `shared/`) belong to no one environment.
            if unit.split(separator: "/").contains(where: { Assessor.sharedNames.contains(Assessor.validName(String($0))) }) { return nil }
            if let file = nearest("account.hcl", from: unit), directory(of: file) != "." {
                let accountDirectory = directory(of: file)
                return (Assessor.validName((accountDirectory as NSString).lastPathComponent), accountDirectory)
            }
            // live/<env>/<stack>: the first directory below the root configuration.
            let below = relative(unit, to: root).split(separator: "/")
            guard below.count >= 2 else { return nil }
            return (Assessor.validName(String(below[0])), join(root, String(below[0])))
        }

        /// The stack's name: its directories below the environment's, without region directories.
        func stackName(_ unit: String, below envDirectory: String) -> String {
            var parts: [String] = []
            var current = envDirectory
            for part in relative(unit, to: envDirectory).split(separator: "/").map(String.init) {
                current = join(current, part)
                if files[join(current, "region.hcl")] == nil && files[join(current, "env.hcl")] == nil { parts.append(part) }
            }
            return Assessor.validName(parts.isEmpty ? (unit as NSString).lastPathComponent : parts.joined(separator: "-"))
        }

        /// The account from the nearest `account.hcl` (or `env.hcl`) locals.
        func account(of unit: String, env: String, evaluator: Evaluator) -> AccountDetection.Account? {
            for name in ["account.hcl", "env.hcl"] {
                guard let path = nearest(name, from: unit), let file = files[path] else { continue }
                let scope = evaluator.with(file: path)
                for block in file.body.blocks(ofType: "locals") {
                    for attribute in block.body.attributes {
                        let provider: String
                        switch attribute.name {
                        case "aws_account_id", "account_id": provider = "aws"
                        case "project_id", "gcp_project", "project": provider = "google"
                        case "subscription_id": provider = "azurerm"
                        default: continue
                        }
                        guard let text = scope.value(attribute.value)?.text, !text.isEmpty, provider != "aws" || Linter.isAccountID(text) else { continue }
                        return AccountDetection.Account(env: env, provider: provider, account: text, source: "\(path):\(attribute.range.start) \(attribute.name)")
                    }
                }
            }
            return nil
        }

        /// The files a configuration includes, in order, with their own includes first.
        func includes(of path: String, evaluator: Evaluator, depth: Int = 0) -> [String] {
            guard depth < 4, let file = files[path] else { return [] }
            var found: [String] = []
            for block in file.body.blocks(ofType: "include") {
                guard let target = block.body.attribute("path").flatMap({ evaluator.with(file: path).value($0.value)?.text }) else { continue }
                let resolved = resolve(target, from: evaluator.unit)
                guard files[resolved] != nil, resolved != path, !found.contains(resolved) else { continue }
                found += includes(of: resolved, evaluator: evaluator, depth: depth + 1).filter { !found.contains($0) } + [resolved]
            }
            return found
        }

        /// A path as a unit's configuration writes it (relative to the unit, or already from the
        /// repository root when built from `get_terragrunt_dir()` and friends), from the root.
        func resolve(_ path: String, from unit: String) -> String {
            let fromRoot = normalize(path)
            if !path.hasPrefix(".") && (files[fromRoot] != nil || files[join(fromRoot, "terragrunt.hcl")] != nil) { return fromRoot }
            return join(unit, path)
        }

        func relative(_ path: String, to directory: String) -> String {
            directory == "." ? path : (path.hasPrefix(directory + "/") ? String(path.dropFirst(directory.count + 1)) : path)
        }
    }

    /// Evaluates expressions of one file as Terragrunt would while reading one unit.
    struct Evaluator {
        var context: Context
        /// The unit being read: `get_terragrunt_dir()`.
        var unit: String
        /// The directory of the root configuration it includes.
        var root: String
        /// The file whose `local.x` are in scope.
        var file: String
        var depth = 0

        func with(file: String) -> Evaluator {
            var copy = self
            copy.file = file
            copy.depth += 1
            return copy
        }

        func localExpressions() -> [(String, HCLExpression)] {
            (context.files[file]?.body.blocks(ofType: "locals") ?? []).flatMap { $0.body.attributes.map { ($0.name, $0.value) } }
        }

        func localValues() -> [(String, Value)] {
            guard depth < 8 else { return [] }
            return localExpressions().compactMap { name, expression in value(expression).map { (name, $0) } }
        }

        func value(_ expression: HCLExpression, level: Int = 0) -> Value? {
            guard level < 32, depth < 8 else { return nil }
            switch expression {
            case .literal(let literal, _):
                switch literal {
                case .string(let text): return .string(text)
                case .number(let text): return .number(text)
                case .bool(let flag): return .bool(flag)
                case .null: return nil
                }
            case .parenthesized(let inner, _):
                return value(inner, level: level + 1)
            case .template(let template, _):
                return template.rendered { value($0, level: level + 1)?.text }.map { .string($0) }
            case .tuple(let items, _):
                let values = items.compactMap { value($0, level: level + 1) }
                return values.count == items.count ? .list(values) : nil
            case .object(let items, _):
                var members: [(String, Value)] = []
                for item in items {
                    guard let key = item.key.objectKey, let evaluated = value(item.value, level: level + 1) else { continue }
                    members.append((key, evaluated))
                }
                return .object(members)
            case .getAttribute(.variable("local", _), let name, _):
                return localExpressions().first { $0.0 == name }.flatMap { value($0.1, level: level + 1) }
            case .getAttribute(let base, let name, _):
                return value(base, level: level + 1)?.member(name)
            case .index(let base, let key, _):
                guard let name = value(key, level: level + 1)?.text else { return nil }
                return value(base, level: level + 1)?.member(name)
            case .functionCall(let name, let arguments, _, _):
                let values = arguments.map { value($0, level: level + 1) }
                return call(name, values)
            default:
                return nil
            }
        }

        func call(_ name: String, _ arguments: [Value?]) -> Value? {
            let first = arguments.first.flatMap { $0?.text }
            switch name {
            case "find_in_parent_folders":
                guard let above = parent(unit) else { return nil }
                return context.nearest(first ?? "terragrunt.hcl", from: above).map { .string($0) }
            case "read_terragrunt_config":
                guard let path = first, context.files[path] != nil else { return nil }
                let other = with(file: path)
                var members: [(String, Value)] = [("locals", .object(other.localValues()))]
                if let inputs = context.files[path]?.body.attribute("inputs"), let evaluated = other.value(inputs.value) { members.append(("inputs", evaluated)) }
                return .object(members)
            case "dirname": return first.map { .string(directory(of: $0)) }
            case "basename": return first.map { .string(($0 as NSString).lastPathComponent) }
            case "get_terragrunt_dir": return .string(unit)
            case "get_parent_terragrunt_dir": return .string(root)
            case "get_repo_root": return .string(".")
            case "path_relative_to_include": return .string(context.relative(unit, to: root))
            case "lower": return first.map { .string($0.lowercased()) }
            case "merge":
                var members: [(String, Value)] = []
                for argument in arguments {
                    guard case .object(let more)? = argument else { return nil }
                    for (key, value) in more {
                        members.removeAll { $0.0 == key }
                        members.append((key, value))
                    }
                }
                return .object(members)
            default: return nil
            }
        }
    }
}
