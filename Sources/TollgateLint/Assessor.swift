import Foundation
import HCL

/// Reads a repository laid out some other way and says how its environments are separated today
/// and how to get to one code + per-environment config.
///
/// Environments and stacks come from the repository's structure (see `Assessor+Layout.swift`
/// and `Terragrunt.swift`); names are only a tie-breaker. Every result is in a fixed order, so
/// two runs over the same files print the same bytes.
public struct Assessor: Sendable {
    public struct Branch: Sendable {
        public var name: String
        public var ahead: Int
        public var behind: Int
        public var differingFiles: [String]

        public init(name: String, ahead: Int, behind: Int, differingFiles: [String]) {
            self.name = name
            self.ahead = ahead
            self.behind = behind
            self.differingFiles = differingFiles
        }
    }

    public struct Input: Sendable {
        /// `.tf` and `.tfvars` files, and for Terragrunt every `.hcl` file, by path.
        public var files: [String: [UInt8]]
        public var directories: [String]
        public var branches: [Branch]
        public var defaultBranch: String

        public init(files: [String: [UInt8]], directories: [String] = [], branches: [Branch] = [], defaultBranch: String = "main") {
            self.files = files
            self.directories = directories
            self.branches = branches
            self.defaultBranch = defaultBranch
        }
    }

    public enum Style: String, Sendable, Codable {
        case directoryPerEnvironment = "directory-per-environment"
        case workspaces
        case branchPerEnvironment = "branch-per-environment"
        case tfvarsPerEnvironment = "tfvars-per-environment"
        case terragrunt
    }

    public struct Report: Sendable, Codable {
        public struct EnvironmentDirectory: Sendable, Codable {
            public var env: String
            public var stack: String
            public var path: String
            public var backend: String?
        }

        public var styles: [Style]
        public var environments: [String]
        /// The stacks, by name, with their directory in each environment and their dependencies.
        public var stacks: [StackLayout]
        public var directories: [EnvironmentDirectory]
        /// Pairwise similarity of environment directories (0…1) with the lines that differ.
        public var similarity: [String]
        public var branches: [String]
        /// Terragrunt units, by path.
        public var units: [Terragrunt.Unit]
        /// Root modules (or units) that are in no environment: shared or global stacks, bootstrap code.
        public var outside: [String]
        public var findings: [Finding]
        /// The account each environment deploys into, where a provider block or `account.hcl` names it.
        public var accounts: [AccountDetection.Account]
        /// State moves each environment needs before its directory can become the shared stack.
        public var moves: [Consolidation.Move]
        /// Resources and module calls in only some environment directories, and their config flag.
        public var conditionals: [Consolidation.Conditional]
        /// The `moved` blocks each environment directory needs, by directory.
        public var movedBlocks: [String: String]
        /// What the draft could not carry over as it is, to settle by hand.
        public var notes: [String]
        public var pipeline: String
        public var configFiles: [String: String]
        public var steps: [String]
    }

    /// Names environments usually have, in promotion order: a tie-breaker between directory
    /// levels and the order of the draft, never the test of what an environment is.
    static let order = ["shared", "global", "sandbox", "dev", "development", "test", "qa", "uat", "nonprod", "nonproduction",
                        "perf", "stage", "staging", "preprod", "prod", "production", "dr"]
    public static let environmentWords = order
    /// Directories that only group environments, never a good stack name.
    static let containers: Set<String> = ["envs", "env", "environments", "live", "deployments", "accounts", "stacks"]

    public var input: Input

    public init(input: Input) { self.input = input }

    /// How a repository tells its environments apart, and which environments it has.
    public struct Discovery: Sendable {
        public var styles: [Style]
        /// The environments, in promotion order.
        public var environments: [String]
        /// Each environment's own directory (directory per environment), by environment.
        public var directories: [String: String]
        /// Each environment's tfvars file (tfvars per environment), by environment.
        public var tfvars: [String: String]
        /// The branches named after an environment (branch per environment).
        public var branches: [Branch]
        /// The stacks, by name.
        public var stacks: [StackLayout]
        /// Root modules or units in no environment.
        public var outside: [String]
        /// The live repository, when it is one.
        public var terragrunt: Terragrunt.Layout?
    }

    /// The repository's environments and how it separates them, without the rest of the
    /// assessment: what `tollgate lint` assumes about a repository with no pipeline file.
    public func discover() -> Discovery {
        discover(parsedFiles())
    }

    func parsedFiles() -> [String: HCLFile] {
        input.files.filter { $0.key.hasSuffix(".tf") || $0.key.hasSuffix(".tfvars") }.mapValues { HCLParser.parse(bytes: $0) }
    }

    func discover(_ parsed: [String: HCLFile]) -> Discovery {
        var styles: [Style] = []
        var stacks: [StackLayout] = []
        var outside: [String] = []

        // Terragrunt live repository, else a directory per environment found from structure.
        let terragrunt = Terragrunt.read(input.files)
        var envDirs: [String: String] = [:]
        if let terragrunt, terragrunt.environments.count >= 1 {
            styles.append(.terragrunt)
            stacks = terragrunt.stacks
            outside = terragrunt.unplaced
        } else if let layout = Self.directoryLayout(roots: Self.rootModules(parsed), parsed: parsed) {
            styles.append(.directoryPerEnvironment)
            envDirs = layout.environments
            stacks = layout.stacks
            outside = layout.other
        }

        // Workspaces: terraform.workspace in code, or local workspace state directories.
        var workspaceNames = Set(input.directories.compactMap { directory -> String? in
            let parts = directory.split(separator: "/")
            guard let index = parts.firstIndex(of: "terraform.tfstate.d"), index + 1 < parts.count, !Self.isHarness(directory) else { return nil }
            return Self.validName(String(parts[index + 1]))
        })
        var usesWorkspace = false
        for (path, file) in parsed.sorted(by: { $0.key < $1.key }) where !Self.isHarness(path) {
            for attribute in allAttributes(file.body) {
                attribute.value.visit { node in
                    if case .getAttribute(.variable("terraform", _), "workspace", _) = node { usesWorkspace = true }
                    if case .object(let items, _) = node {
                        let keys = items.compactMap(\.key.objectKey)
                        if keys.count >= 2, keys.allSatisfy({ Self.environmentWords.contains($0) }) { workspaceNames.formUnion(keys) }
                    }
                    return true
                }
            }
        }
        let workspaces = styles.isEmpty && (usesWorkspace || input.directories.contains { $0.hasSuffix("terraform.tfstate.d") && !Self.isHarness($0) })
        if workspaces { styles.append(.workspaces) }

        // Branch per environment.
        let envBranches = input.branches.filter { Self.environmentWords.contains($0.name) }.sorted { $0.name < $1.name }
        if !envBranches.isEmpty { styles.append(.branchPerEnvironment) }

        // tfvars per environment: dev.tfvars, env/prod.tfvars, …
        let tfvarsEnvs = styles.contains(.terragrunt) ? [:] : Self.tfvarsEnvironments(parsed, excluding: Array(envDirs.values))
        if !tfvarsEnvs.isEmpty { styles.append(.tfvarsPerEnvironment) }

        var environments = Set(envDirs.keys).union(envBranches.map(\.name)).union(tfvarsEnvs.keys)
        if let terragrunt, styles.contains(.terragrunt) { environments.formUnion(terragrunt.environments) }
        if workspaces { environments.formUnion(workspaceNames) }
        if stacks.isEmpty && !environments.isEmpty {
            stacks = [StackLayout(name: Self.validName(Self.singleStackName(parent: "")), paths: [:], dependsOn: [])]
        }
        return Discovery(styles: styles, environments: Self.promotionOrder(environments), directories: envDirs, tfvars: tfvarsEnvs,
                         branches: envBranches, stacks: stacks, outside: outside, terragrunt: styles.contains(.terragrunt) ? terragrunt : nil)
    }

    /// Environment names in promotion order: the known words by `order`, then the rest by name.
    public static func promotionOrder<S: Sequence<String>>(_ names: S) -> [String] {
        names.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
    }

    public func assess() -> Report {
        let parsed = parsedFiles()
        let discovery = discover(parsed)
        let ordered = discovery.environments
        let words = Set(Self.environmentWords).union(ordered)

        // Lint the code as it is: every directory with .tf files outside harnesses is a root module.
        let roots = Set(parsed.keys.filter { $0.hasSuffix(".tf") && !Self.isHarness($0) }.map { ($0 as NSString).deletingLastPathComponent })
        let lintInput = LintInput(files: input.files.filter { ($0.key.hasSuffix(".tf") || $0.key.hasSuffix(".tfvars")) && !discovery.tfvars.values.contains($0.key) },
                                  stacks: roots.sorted().map { .init(name: ($0 as NSString).lastPathComponent, path: $0) },
                                  environments: ordered)
        let findings = Linter(input: lintInput).run().filter { $0.rule != "lockfile-missing" && $0.rule != "config-missing" }

        // Each stack's environment directories: how alike they are, and how they become one stack.
        var similarity: [String] = []
        var directories: [Report.EnvironmentDirectory] = []
        var consolidations: [(stack: StackLayout, plan: Consolidation)] = []
        var movedBlocks: [String: String] = [:]
        if discovery.terragrunt == nil {
            for stack in discovery.stacks where !stack.paths.isEmpty {
                let dirList = ordered.compactMap { env in stack.paths[env].map { (env, $0) } }
                for (i, a) in dirList.enumerated() {
                    for b in dirList[(i + 1)...] {
                        let (ratio, differing) = Similarity.compare(input.files, a.1, b.1)
                        similarity.append("\(a.1) ~ \(b.1): \(Int((ratio * 100).rounded()))% identical lines" + (differing.isEmpty ? "" : "; differing: " + differing.prefix(5).joined(separator: " | ")))
                    }
                }
                for (env, path) in dirList {
                    directories.append(.init(env: env, stack: stack.name, path: path, backend: Self.backend(in: path, parsed: parsed)?.summary))
                }
                let plan = Consolidation.plan(dirList.map { env, path in
                    (env, parsed.filter { Linter.directlyInside($0.key, path) && $0.key.hasSuffix(".tf") }.sorted { $0.key < $1.key }.map(\.value))
                }, words: words)
                consolidations.append((stack, plan))
                for (env, path) in dirList {
                    let text = plan.movedBlocks(for: env)
                    if !text.isEmpty { movedBlocks[path] = text }
                }
            }
        }

        let accounts = discovery.terragrunt?.accounts ?? ordered.compactMap { account(of: $0, discovery, parsed) }
        var notes: [String] = []
        let (pipeline, configs) = draft(discovery, parsed: parsed, accounts: accounts, consolidations: consolidations, notes: &notes)
        return Report(styles: discovery.styles, environments: ordered, stacks: discovery.stacks, directories: directories, similarity: similarity,
                      branches: discovery.branches.map { "\($0.name): \($0.ahead) ahead, \($0.behind) behind \(input.defaultBranch); differing files: \($0.differingFiles.joined(separator: ", "))" },
                      units: discovery.terragrunt?.units ?? [], outside: discovery.outside,
                      findings: findings, accounts: accounts, moves: consolidations.flatMap(\.plan.moves), conditionals: consolidations.flatMap(\.plan.conditionals),
                      movedBlocks: movedBlocks, notes: notes, pipeline: pipeline, configFiles: configs,
                      steps: steps(discovery, consolidations: consolidations))
    }

    /// The account an environment deploys into: from the provider blocks of its directories
    /// (stacks by name), or of the shared code with its tfvars file (workspaces, tfvars per
    /// environment). Nil when its code is not in this checkout (an environment branch).
    func account(of env: String, _ discovery: Discovery, _ parsed: [String: HCLFile]) -> AccountDetection.Account? {
        let directories = discovery.stacks.compactMap { $0.paths[env] }
        if !directories.isEmpty {
            for directory in directories {
                let code = parsed.filter { Linter.directlyInside($0.key, directory) && $0.key.hasSuffix(".tf") }
                let variableFiles = parsed.filter { Linter.directlyInside($0.key, directory) && $0.key.hasSuffix(".tfvars") }.sorted { $0.key < $1.key }.map(\.value)
                if let found = AccountDetection.detect(scope(env, code: code, variableFiles: variableFiles)) { return found }
            }
            return nil
        }
        guard discovery.styles.contains(.workspaces) || discovery.tfvars[env] != nil else { return nil }
        let code = parsed.filter { path, _ in path.hasSuffix(".tf") && !Self.isHarness(path) && !discovery.directories.values.contains { Linter.inside(path, $0) } }
        return AccountDetection.detect(scope(env, code: code, variableFiles: discovery.tfvars[env].flatMap { parsed[$0] }.map { [$0] } ?? []))
    }

    func scope(_ env: String, code: [String: HCLFile], variableFiles: [HCLFile]) -> AccountDetection.Scope {
        var variables: [String: HCLValue] = [:]
        for file in variableFiles {
            for attribute in file.body.attributes { variables[attribute.name] = attribute.value.literalValue }
        }
        return AccountDetection.Scope(env: env, code: code.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, variables: variables)
    }

    func allAttributes(_ body: HCLBody) -> [HCLAttribute] {
        body.attributes + body.blocks.flatMap { allAttributes($0.body) }
    }
}

extension Assessor.Report {
    /// The migration report as Markdown.
    public var markdown: String {
        var text = "# tollgate assess\n\n## How environments are separated now\n\n"
        text += styles.isEmpty ? "- no environment separation detected\n" : styles.map { "- \($0.rawValue)\n" }.joined()
        text += "\nEnvironments: \(environments.joined(separator: ", "))\n"
        if !stacks.isEmpty {
            text += "\n## Stacks\n\n" + stacks.map { stack in
                "- \(stack.name)" + (stack.dependsOn.isEmpty ? "" : " (depends on \(stack.dependsOn.joined(separator: ", ")))")
                    + (stack.source.map { "; source \($0)" } ?? "") + "\n"
            }.joined()
        }
        if !directories.isEmpty {
            text += "\n## Environment directories\n\n" + directories.map { "- `\($0.path)` → \($0.env), stack \($0.stack)\($0.backend.map { " (backend \($0))" } ?? "")\n" }.joined()
        }
        if !units.isEmpty {
            text += "\n## Terragrunt units\n\n" + units.map { unit in
                "- `\(unit.path)` → \(unit.env), stack \(unit.stack)" + (unit.dependencies.isEmpty ? "" : "; depends on " + unit.dependencies.map { "`\($0)`" }.joined(separator: ", ")) + "\n"
            }.joined()
        }
        if !outside.isEmpty { text += "\n## In no environment\n\n" + outside.map { "- `\($0)`\n" }.joined() }
        if !similarity.isEmpty { text += "\n" + similarity.map { "- \($0)\n" }.joined() }
        if !branches.isEmpty { text += "\n## Environment branches\n\n" + branches.map { "- \($0)\n" }.joined() }
        text += "\n## Accounts and backends\n\n"
        for env in environments {
            let account = accounts.first { $0.env == env }.map { "account \($0.account) (\($0.provider), \($0.source))" }
                ?? "account not found in provider blocks; set it in tollgate.yaml"
            let backend = directories.first { $0.env == env }?.backend.map { "; backend \($0)" } ?? ""
            text += "- \(env): \(account)\(backend)\n"
        }
        text += "\n## Findings\n\n" + (findings.isEmpty ? "none\n" : findings.map { "- \($0.location) [\($0.rule)] \($0.message)\n" }.joined())
        if !notes.isEmpty { text += "\n## Notes\n\n" + notes.map { "- \($0)\n" }.joined() }
        text += "\n## Migration plan\n\n" + steps.map { "\($0)\n" }.joined()
        for (directory, blocks) in movedBlocks.sorted(by: { $0.key < $1.key }) {
            let env = directories.first { $0.path == directory }?.env ?? directory
            text += "\n### \(directory)/moved.tf (\(env))\n\n```hcl\n\(blocks)```\n"
        }
        text += "\n### Draft tollgate.yaml\n\n```yaml\n\(pipeline)```\n"
        for (path, contents) in configFiles.sorted(by: { $0.key < $1.key }) {
            text += "\n### \(path)\n\n```hcl\n\(contents)```\n"
        }
        return text
    }
}
