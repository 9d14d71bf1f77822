import Foundation
import HCL

/// How `assess` reads environments and stacks from a repository's structure: which directory
/// level holds the environments, which root modules sit under each, and which depend on which.
extension Assessor {
    /// One stack: its directory (or Terragrunt unit) in each environment, and the stacks it reads.
    public struct StackLayout: Sendable, Codable, Equatable {
        public var name: String
        /// Its directory in each environment, by environment; empty when every environment runs
        /// the same code (workspaces, tfvars or a branch per environment).
        public var paths: [String: String]
        /// Stacks it reads through `terraform_remote_state` or a Terragrunt `dependency`.
        public var dependsOn: [String]
        /// The module a Terragrunt unit deploys (`terraform { source }`).
        public var source: String?

        public init(name: String, paths: [String: String], dependsOn: [String], source: String? = nil) {
            self.name = name
            self.paths = paths
            self.dependsOn = dependsOn
            self.source = source
        }
    }

    /// A backend as the draft writes it: its type and the settings that are plain values.
    public struct StateBackend: Sendable, Equatable {
        public var type: String
        public var settings: [(key: String, value: String)]

        public static func == (a: StateBackend, b: StateBackend) -> Bool {
            a.type == b.type && a.settings.map { "\($0.key)=\($0.value)" } == b.settings.map { "\($0.key)=\($0.value)" }
        }

        var summary: String { "\(type) " + settings.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
    }

    /// Directory names of tests, examples and vendored code: never an environment or a stack.
    /// Hidden directories (`.terraform`, `.terragrunt-cache`, `.github`) are skipped as well.
    public static let harnesses: Set<String> = ["test", "tests", "testing", "examples", "example", "fixtures", "fixture",
                                                "testdata", "test-fixtures", "terratest", "vendor", "node_modules"]

    /// Whether `path` lies in a test harness, an example or a hidden directory.
    public static func isHarness(_ path: String) -> Bool {
        path.split(separator: "/").contains { harnesses.contains(String($0)) || ($0.hasPrefix(".") && $0 != "." && $0 != "..") }
    }

    /// Directory names that hold values for no one environment: shared or global stacks.
    static let sharedNames: Set<String> = ["shared", "global", "common", "mgmt", "management"]

    /// `_Global` → `global`, `eu_West 1` → `eu_west-1`: a name `tollgate.yaml` accepts
    /// (`^[a-z][a-z0-9_-]*$`), or the text unchanged when nothing of it is left.
    static func validName(_ text: String) -> String {
        var name = String(text.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "-" })
        while let first = name.first, !first.isLetter { name.removeFirst() }
        return name.isEmpty ? text : name
    }

    /// Whether a directory keeps anything of one environment's own: a backend, a tfvars file, or
    /// a provider that names an account.
    static func hasMarkers(_ directory: String, _ parsed: [String: HCLFile]) -> Bool {
        parsed.contains { path, file in
            guard Linter.directlyInside(path, directory) else { return false }
            if path.hasSuffix(".tfvars") { return true }
            if file.body.blocks(ofType: "terraform").contains(where: { !$0.body.blocks(ofType: "backend").isEmpty }) { return true }
            return file.body.blocks(ofType: "provider").contains { provider in
                ["allowed_account_ids", "project", "subscription_id"].contains { provider.body.attribute($0) != nil }
                    || !provider.body.blocks(ofType: "assume_role").isEmpty
            }
        }
    }

    /// Directories of Terraform code that are root modules: not called by other code, not kept
    /// under `modules/`, not in a harness.
    static func rootModules(_ parsed: [String: HCLFile]) -> [String] {
        var code: Set<String> = [], called: Set<String> = []
        for (path, file) in parsed where path.hasSuffix(".tf") {
            let directory = LintDiscovery.directory(of: path)
            code.insert(directory)
            for block in file.body.blocks(ofType: "module") {
                guard case .string(let text)? = block.body.attribute("source")?.value.literalValue,
                      let target = Linter.resolve(text, from: directory) else { continue }
                called.insert(target)
            }
        }
        return code.filter { !called.contains($0) && !isHarness($0) && !$0.split(separator: "/").contains("modules") }.sorted()
    }

    /// A directory per environment, found from structure.
    struct DirectoryLayout {
        /// Each environment's directory, by environment.
        var environments: [String: String]
        var stacks: [StackLayout]
        /// Root modules beside the environments that are in none of them (`global/`, `shared/`…).
        var other: [String]
    }

    /// The directory level whose sibling directories are environments: each keeps its own
    /// backend, tfvars or account (or has a name environments usually have), and they share stack
    /// names beneath them (or are each one root module). Among several such levels, the one with
    /// more recognised names wins, then one with stacks beneath, then more siblings, then the
    /// shallower one.
    static func directoryLayout(roots: [String], parsed: [String: HCLFile]) -> DirectoryLayout? {
        var groups: [String: [String: [String: String]]] = [:]
        for root in roots where root != "." {
            let parts = root.split(separator: "/").map(String.init)
            for index in parts.indices {
                groups[parts[..<index].joined(separator: "/"), default: [:]][parts[index], default: [:]][parts[(index + 1)...].joined(separator: "/")] = root
            }
        }
        var best: (score: [Int], parent: String, members: [String: [String: String]], counts: [String: Int])?
        for (parent, children) in groups.sorted(by: { $0.key < $1.key }) {
            let candidates = children.filter { name, stacks in
                !containers.contains(name) && (environmentWords.contains(validName(name)) || stacks.values.contains { hasMarkers($0, parsed) })
            }
            var counts: [String: Int] = [:]
            for stacks in candidates.values { for suffix in stacks.keys { counts[suffix, default: 0] += 1 } }
            let members = candidates.filter { $0.value.keys.contains { counts[$0, default: 0] >= 2 } }
            guard members.count >= 2 else { continue }
            let recognised = members.keys.filter { environmentWords.contains(validName($0)) }.count
            let nested = counts.contains { !$0.key.isEmpty && $0.value >= 2 } ? 1 : 0
            let depth = parent.isEmpty ? 0 : parent.split(separator: "/").count
            let score = [recognised, nested, members.count, -depth]
            if best.map({ $0.score.lexicographicallyPrecedes(score) }) ?? true {
                best = (score, parent, members, counts)
            }
        }
        guard let best else { return nil }
        var environments: [String: String] = [:]
        var stacks: [String: StackLayout] = [:]
        for (directoryName, members) in best.members.sorted(by: { $0.key < $1.key }) {
            let env = validName(directoryName)
            environments[env] = best.parent.isEmpty ? directoryName : best.parent + "/" + directoryName
            for (suffix, root) in members {
                let name = suffix.isEmpty ? singleStackName(parent: best.parent) : validName(suffix.replacingOccurrences(of: "/", with: "-"))
                stacks[name, default: StackLayout(name: name, paths: [:], dependsOn: [])].paths[env] = root
            }
        }
        let placed = Set(stacks.values.flatMap(\.paths.values))
        let layout = DirectoryLayout(environments: environments, stacks: dependencies(stacks.values.sorted { $0.name < $1.name }, parsed: parsed),
                                     other: roots.filter { !placed.contains($0) })
        return layout
    }

    /// The name of the one stack of a directory per environment: the directory that holds the
    /// environment directories, unless it only groups them.
    static func singleStackName(parent: String) -> String {
        let name = (parent as NSString).lastPathComponent
        return name.isEmpty || name == "." || environmentWords.contains(name) || containers.contains(name) ? "main" : validName(name)
    }

    /// The stacks each stack reads through `terraform_remote_state`: a local state path inside
    /// another stack's directory, the key or prefix of another stack's backend in the same
    /// environment, or a data source named after the other stack.
    static func dependencies(_ stacks: [StackLayout], parsed: [String: HCLFile]) -> [StackLayout] {
        stacks.map { stack in
            var found: Set<String> = []
            for (env, directory) in stack.paths {
                for (path, file) in parsed where path.hasSuffix(".tf") && Linter.directlyInside(path, directory) {
                    for block in file.body.blocks(ofType: "data") where block.labels.first == "terraform_remote_state" {
                        var config: [String: String] = [:]
                        if case .object(let members)? = block.body.attribute("config")?.value.literalValue {
                            for (key, value) in members { if let text = value.text { config[key] = text } }
                        }
                        let backendType = block.body.attribute("backend")?.value.literalValue?.text ?? "local"
                        for other in stacks where other.name != stack.name {
                            guard let otherDirectory = other.paths[env] else { continue }
                            let otherBackend = backend(in: otherDirectory, parsed: parsed)
                            let otherSettings = Dictionary(otherBackend?.settings.map { ($0.key, $0.value) } ?? [], uniquingKeysWith: { a, _ in a })
                            var reads = block.labels.dropFirst().first.map(validName) == other.name
                            if backendType == "local", let statePath = config["path"], let resolved = Linter.resolve(statePath, from: directory) {
                                reads = reads || Linter.inside(resolved, otherDirectory)
                            }
                            for key in ["key", "prefix", "path"] where config[key] != nil && config[key] == otherSettings[key] {
                                reads = reads || config["bucket"] == nil || config["bucket"] == otherSettings["bucket"]
                            }
                            if reads { found.insert(other.name) }
                        }
                    }
                }
            }
            var stack = stack
            stack.dependsOn = found.sorted()
            return stack
        }
    }

    /// The backend block of the `.tf` files directly in `directory` (the first file by name).
    static func backend(in directory: String, parsed: [String: HCLFile]) -> StateBackend? {
        for (path, file) in parsed.sorted(by: { $0.key < $1.key }) where path.hasSuffix(".tf") && Linter.directlyInside(path, directory) {
            for terraform in file.body.blocks(ofType: "terraform") {
                for block in terraform.body.blocks(ofType: "backend") {
                    let settings = block.body.attributes.compactMap { attribute -> (key: String, value: String)? in
                        guard let value = attribute.value.literalValue else { return nil }
                        switch value {
                        case .string(let text), .number(let text): return (attribute.name, text)
                        case .bool(let flag): return (attribute.name, String(flag))
                        default: return nil
                        }
                    }
                    return StateBackend(type: block.labels.first ?? "local", settings: settings)
                }
            }
        }
        return nil
    }

    /// Variable files named after environments, side by side (`dev.tfvars`, `env/prod.tfvars`),
    /// by environment: the directory with the most of them, at least two, one a recognised name.
    static func tfvarsEnvironments(_ parsed: [String: HCLFile], excluding directories: [String]) -> [String: String] {
        var byDirectory: [String: [String: String]] = [:]
        for path in parsed.keys where path.hasSuffix(".tfvars") && !path.hasSuffix(".auto.tfvars") && !isHarness(path)
            && !directories.contains(where: { Linter.inside(path, $0) }) {
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            guard !notEnvironments.contains(stem) else { continue }
            byDirectory[LintDiscovery.directory(of: path), default: [:]][validName(stem)] = path
        }
        let ranked = byDirectory.filter { $0.value.count >= 2 && $0.value.keys.contains(where: environmentWords.contains) }
            .sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
        return ranked.first?.value ?? [:]
    }

    /// tfvars files that are not one environment's values.
    static let notEnvironments: Set<String> = ["terraform", "common", "default", "defaults", "globals", "global", "shared",
                                               "variables", "vars", "secrets", "example", "sample", "backend"]
}
