import Foundation
import HCL

/// Reads a repository laid out some other way and says how its environments are separated today
/// and how to get to one code + per-environment config.
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
    }

    public struct Report: Sendable, Codable {
        public struct EnvironmentDirectory: Sendable, Codable {
            public var env: String
            public var path: String
            public var backend: String?
        }

        public var styles: [Style]
        public var environments: [String]
        public var directories: [EnvironmentDirectory]
        /// Pairwise similarity of environment directories (0…1) with the lines that differ.
        public var similarity: [String]
        public var branches: [String]
        public var findings: [Finding]
        /// The account each environment deploys into, where a provider block names it.
        public var accounts: [AccountDetection.Account]
        /// State moves each environment needs before its directory can become the shared stack.
        public var moves: [Consolidation.Move]
        /// Resources and module calls in only some environment directories, and their config flag.
        public var conditionals: [Consolidation.Conditional]
        /// The `moved` blocks of each environment that needs any, by environment.
        public var movedBlocks: [String: String]
        public var pipeline: String
        public var configFiles: [String: String]
        public var steps: [String]
    }

    public static let environmentWords = ["dev", "development", "test", "qa", "uat", "stage", "staging", "preprod", "prod", "production", "sandbox"]
    /// Directories that only group environments, never a good stack name.
    static let containers: Set<String> = ["envs", "env", "environments", "live", "deployments", "accounts"]
    static let order = ["sandbox", "dev", "development", "test", "qa", "uat", "stage", "staging", "preprod", "prod", "production"]

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

        // Directory per environment: directories of .tf files that differ only in an environment word.
        var envDirs: [String: String] = [:]
        for path in parsed.keys where path.hasSuffix(".tf") {
            let components = path.split(separator: "/").dropLast().map(String.init)
            if let index = components.firstIndex(where: { Self.environmentWords.contains($0) }) {
                envDirs[components[index]] = components[...index].joined(separator: "/")
            }
        }
        if envDirs.count >= 2 { styles.append(.directoryPerEnvironment) }

        // Workspaces: terraform.workspace in code, or local workspace state directories.
        var workspaceNames = Set(input.directories.compactMap { directory -> String? in
            let parts = directory.split(separator: "/")
            guard let index = parts.firstIndex(of: "terraform.tfstate.d"), index + 1 < parts.count else { return nil }
            return String(parts[index + 1])
        })
        var usesWorkspace = false
        for file in parsed.values {
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
        if usesWorkspace || input.directories.contains(where: { $0.hasSuffix("terraform.tfstate.d") }) { styles.append(.workspaces) }

        // Branch per environment.
        let envBranches = input.branches.filter { Self.environmentWords.contains($0.name) }
        if !envBranches.isEmpty { styles.append(.branchPerEnvironment) }

        // tfvars per environment: dev.tfvars, env/prod.tfvars, …
        var tfvarsEnvs: [String: String] = [:]
        for path in parsed.keys where path.hasSuffix(".tfvars") {
            let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            if Self.environmentWords.contains(stem) { tfvarsEnvs[stem] = path }
        }
        if tfvarsEnvs.count >= 2 { styles.append(.tfvarsPerEnvironment) }

        var environments = Set(envDirs.keys).union(envBranches.map(\.name)).union(tfvarsEnvs.keys)
        if styles.contains(.workspaces) { environments.formUnion(workspaceNames) }
        return Discovery(styles: styles, environments: Self.promotionOrder(environments), directories: envDirs, tfvars: tfvarsEnvs, branches: envBranches)
    }

    /// Environment names in promotion order: the known words by `order`, then the rest by name.
    public static func promotionOrder<S: Sequence<String>>(_ names: S) -> [String] {
        names.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
    }

    public func assess() -> Report {
        let parsed = parsedFiles()
        let discovery = discover(parsed)
        let (styles, envDirs, tfvarsEnvs, envBranches, ordered) = (discovery.styles, discovery.directories, discovery.tfvars, discovery.branches, discovery.environments)

        // Similarity between environment directories, and the lines that differ.
        var similarity: [String] = []
        let dirList = ordered.compactMap { env in envDirs[env].map { (env, $0) } }
        for (i, a) in dirList.enumerated() {
            for b in dirList[(i + 1)...] {
                let (ratio, differing) = compare(a.1, b.1)
                similarity.append("\(a.1) ~ \(b.1): \(Int((ratio * 100).rounded()))% identical lines" + (differing.isEmpty ? "" : "; differing: " + differing.prefix(5).joined(separator: " | ")))
            }
        }

        // Lint the code as it is: every directory with .tf files is a root module.
        let roots = Set(parsed.keys.filter { $0.hasSuffix(".tf") }.map { ($0 as NSString).deletingLastPathComponent })
        let lintInput = LintInput(files: input.files.filter { !$0.key.hasSuffix(".tfvars") || !tfvarsEnvs.values.contains($0.key) },
                                  stacks: roots.sorted().map { .init(name: ($0 as NSString).lastPathComponent, path: $0) },
                                  environments: ordered)
        let findings = Linter(input: lintInput).run().filter { $0.rule != "lockfile-missing" && $0.rule != "config-missing" }

        let directories = dirList.map { env, path in
            Report.EnvironmentDirectory(env: env, path: path, backend: backend(in: path, parsed: parsed).map { "\($0.type) \($0.settings.map { "\($0.0)=\($0.1)" }.joined(separator: " "))" })
        }
        let words = Set(Self.environmentWords).union(ordered)
        let consolidation = Consolidation.plan(dirList.map { env, path in
            (env, parsed.filter { Linter.directlyInside($0.key, path) && $0.key.hasSuffix(".tf") }.sorted { $0.key < $1.key }.map(\.value))
        }, words: words)
        let accounts = ordered.compactMap { env in
            scope(env, envDirs: envDirs, tfvars: tfvarsEnvs, parsed: parsed, workspaces: styles.contains(.workspaces)).flatMap(AccountDetection.detect)
        }
        let (pipeline, configs) = draft(environments: ordered, envDirs: envDirs, tfvars: tfvarsEnvs, parsed: parsed, workspaces: styles.contains(.workspaces),
                                        accounts: accounts, flags: consolidation.flags)
        let movedBlocks = ordered.reduce(into: [String: String]()) { blocks, env in
            let text = consolidation.movedBlocks(for: env)
            if !text.isEmpty { blocks[env] = text }
        }
        return Report(styles: styles, environments: ordered, directories: directories, similarity: similarity,
                      branches: envBranches.map { "\($0.name): \($0.ahead) ahead, \($0.behind) behind \(input.defaultBranch); differing files: \($0.differingFiles.joined(separator: ", "))" },
                      findings: findings, accounts: accounts, moves: consolidation.moves, conditionals: consolidation.conditionals, movedBlocks: movedBlocks,
                      pipeline: pipeline, configFiles: configs,
                      steps: steps(styles, consolidation: consolidation, envDirs: envDirs, stack: stackName(envDirs)))
    }

    /// The code an environment runs and the variable values set for it: its own directory, or the
    /// shared code with its tfvars file (workspaces and tfvars per environment). Nil when its code
    /// is not in this checkout (an environment branch).
    func scope(_ env: String, envDirs: [String: String], tfvars: [String: String], parsed: [String: HCLFile], workspaces: Bool) -> AccountDetection.Scope? {
        let code: [String: HCLFile]
        var variableFiles: [HCLFile] = []
        if let directory = envDirs[env] {
            code = parsed.filter { Linter.directlyInside($0.key, directory) && $0.key.hasSuffix(".tf") }
            variableFiles = parsed.filter { Linter.directlyInside($0.key, directory) && $0.key.hasSuffix(".tfvars") }.sorted { $0.key < $1.key }.map(\.value)
        } else if workspaces || tfvars[env] != nil {
            code = parsed.filter { path, _ in path.hasSuffix(".tf") && !envDirs.values.contains { Linter.inside(path, $0) } }
            variableFiles = tfvars[env].flatMap { parsed[$0] }.map { [$0] } ?? []
        } else {
            return nil
        }
        var variables: [String: HCLValue] = [:]
        for file in variableFiles {
            for attribute in file.body.attributes { variables[attribute.name] = attribute.value.literalValue }
        }
        return AccountDetection.Scope(env: env, code: code.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, variables: variables)
    }

    /// The stack's name: the directory that holds the environment directories, unless it only groups them.
    func stackName(_ envDirs: [String: String]) -> String {
        envDirs.values.first.map { ((($0 as NSString).deletingLastPathComponent as NSString).lastPathComponent) }
            .flatMap { $0.isEmpty || $0 == "." || Self.environmentWords.contains($0) || Self.containers.contains($0) ? nil : $0 } ?? "main"
    }

    func allAttributes(_ body: HCLBody) -> [HCLAttribute] {
        body.attributes + body.blocks.flatMap { allAttributes($0.body) }
    }

    func compare(_ a: String, _ b: String) -> (Double, [String]) {
        Similarity.compare(input.files, a, b)
    }

    func backend(in directory: String, parsed: [String: HCLFile]) -> (type: String, settings: [(String, String)])? {
        for (path, file) in parsed where path.hasPrefix(directory + "/") && !path.dropFirst(directory.count + 1).contains("/") {
            for terraform in file.body.blocks(ofType: "terraform") {
                for block in terraform.body.blocks(ofType: "backend") {
                    let settings = block.body.attributes.compactMap { attribute -> (String, String)? in
                        guard let value = attribute.value.literalValue else { return nil }
                        switch value {
                        case .string(let text): return (attribute.name, text)
                        case .number(let text): return (attribute.name, text)
                        case .bool(let flag): return (attribute.name, String(flag))
                        default: return nil
                        }
                    }
                    return (block.labels.first ?? "local", settings)
                }
            }
        }
        return nil
    }

    /// A draft tollgate.yaml (each environment keeps its existing state location) and config files.
    func draft(environments: [String], envDirs: [String: String], tfvars: [String: String], parsed: [String: HCLFile], workspaces: Bool,
               accounts: [AccountDetection.Account], flags: (String) -> [String]) -> (String, [String: String]) {
        let stack = stackName(envDirs)
        // tollgate refuses two environments in one account, so only the first keeps a shared one.
        var owners: [String: String] = [:]
        var yaml = """
            # Draft written by 'tollgate assess': review every REPLACE before use.
            version: 1
            engine:
              binary: terraform
              version: ">= 1.0.0"
            main_branch: main
            approvers: .tollgate/allowed_signers
            stacks:
              - name: \(stack)
            environments:

            """
        var configs: [String: String] = [:]
        for (index, env) in environments.enumerated() {
            let gate: String
            if index == environments.count - 1 && environments.count > 1 {
                gate = "\n      type: approval\n      required: 1\n      approvers: [REPLACE-approver@example.com]\n      max_plan_age: 24h"
            } else {
                gate = index == 0 ? " auto" : " on-merge"
            }
            var backendText = "      type: local\n      settings:\n        path: terraform.tfstate.d/\(env)/terraform.tfstate"
            if let directory = envDirs[env] {
                if let found = backend(in: directory, parsed: parsed), found.type != "local" || !found.settings.isEmpty {
                    backendText = "      type: \(found.type)\n      settings:\n" + found.settings.map { "        \($0.0): \"\($0.1)\"" }.joined(separator: "\n")
                    if found.settings.isEmpty { backendText = "      type: \(found.type)\n      settings:\n        key: REPLACE-\(env)" }
                } else {
                    backendText = "      type: local\n      settings:\n        path: \(directory)/terraform.tfstate"
                }
            } else if !workspaces {
                backendText = "      type: local\n      settings:\n        path: state/\(env)/{stack}.tfstate"
            }
            var account = "account: REPLACE-\(env)-account\n    identity: echo REPLACE-\(env)-account"
            if let found = accounts.first(where: { $0.env == env }) {
                if let owner = owners[found.account] {
                    account += "  # shares \(found.provider) account \(found.account) with \(owner); give it its own"
                } else {
                    owners[found.account] = env
                    account = "account: \"\(found.account)\"\n    identity: \(found.identity)"
                }
            }
            yaml += """
                  - name: \(env)
                    \(account)
                    backend:
                \(backendText)
                    gate:\(gate)

                """
            // Values that are literal in the environment's directory or tfvars become its config.
            var values: [String] = []
            if let path = tfvars[env], let file = parsed[path] {
                values = file.body.attributes.map { file.text(of: $0.range) }
            } else if let directory = envDirs[env] {
                for (path, file) in parsed.sorted(by: { $0.key < $1.key }) where path.hasPrefix(directory + "/") && path.hasSuffix(".tfvars") {
                    values += file.body.attributes.map { file.text(of: $0.range) }
                }
            }
            values += flags(env)
            configs["config/\(env)/\(stack).tfvars"] = values.joined(separator: "\n") + (values.isEmpty ? "" : "\n")
        }
        return (yaml, configs)
    }

    func steps(_ styles: [Style], consolidation: Consolidation, envDirs: [String: String], stack: String) -> [String] {
        var steps = [
            "1. Add tollgate.yaml (the draft below) and .tollgate/allowed_signers; run 'tollgate validate'. Risk: none, nothing is applied.",
        ]
        if styles.contains(.directoryPerEnvironment) {
            steps.append("2. Copy the most complete environment directory to stacks/NAME; turn every value that differs between environment directories into a variable, and put each environment's value in config/ENV/NAME.tfvars. Risk: low, code only.")
        } else if styles.contains(.branchPerEnvironment) {
            steps.append("2. Merge the environment branches' differences into variables on main, with each branch's values in config/ENV/; stop committing to the environment branches. Risk: medium, review each differing file.")
        } else {
            steps.append("2. Replace terraform.workspace and per-environment maps with variables set in config/ENV/. Risk: low, code only.")
        }
        let keep = "3. Keep each environment's existing state location as its backend (already in the draft), so no state moves."
        if !styles.contains(.directoryPerEnvironment) {
            steps.append(keep + (styles.contains(.branchPerEnvironment)
                ? " If an environment branch names a resource differently, rename it on that branch first and apply it there with moved { from = OLD to = NEW } blocks."
                : " The code is already shared, so every resource keeps its address and no moved blocks are needed."))
        } else if consolidation.moves.isEmpty && consolidation.conditionals.isEmpty {
            steps.append(keep + " No moved blocks are needed: every resource and module call has the same address in every environment directory.")
        } else {
            var text = keep + " First give every resource the address it will have in the shared stack, in each environment directory on its own: "
                + "rename the blocks listed here (and their references), add the count or for_each for the conditional ones, put the environment's moved blocks (below) in its directory as moved.tf, and apply it there. "
                + "One shared stack cannot hold them, since two moved blocks may not move to the same address. Risk: low; the plan must show only moves."
            for move in consolidation.moves {
                text += "\n   - \(move.env) (\(envDirs[move.env] ?? move.env)): \(move.from) → \(move.to)"
            }
            let unchanged = envDirs.keys.filter { env in !consolidation.moves.contains { $0.env == env } }
            if !unchanged.isEmpty {
                text += "\n   - no moves in " + Self.promotionOrder(unchanged).joined(separator: ", ")
            }
            for block in consolidation.conditionals {
                text += "\n   - \(block.address) is only in \(block.environments.joined(separator: ", ")), not in \(block.missing.joined(separator: ", ")): "
                    + "it becomes conditional on the config flag '\(block.flag)' (variable of type bool, default false) through its \(block.meta): '\(block.argument)'; "
                    + "\(block.flag) = true in " + block.environments.map { "config/\($0)/\(stack).tfvars" }.joined(separator: ", ") + " and false in the others (already in the drafts)"
            }
            steps.append(text)
        }
        steps += [
            "4. Plan every environment with 'tollgate release' + 'tollgate plan RELEASE --env ENV' and require no changes before the first apply. Risk: a non-empty plan means a value was lost in step 2; fix it before applying.",
            "5. Fix the lint findings below, then make 'lint' a check of every environment. Risk: low.",
        ]
        return steps
    }
}

extension Assessor.Report {
    /// The migration report as Markdown.
    public var markdown: String {
        var text = "# tollgate assess\n\n## How environments are separated now\n\n"
        text += styles.isEmpty ? "- no environment separation detected\n" : styles.map { "- \($0.rawValue)\n" }.joined()
        text += "\nEnvironments: \(environments.joined(separator: ", "))\n"
        if !directories.isEmpty {
            text += "\n## Environment directories\n\n" + directories.map { "- `\($0.path)` → \($0.env)\($0.backend.map { " (backend \($0))" } ?? "")\n" }.joined()
        }
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
        text += "\n## Migration plan\n\n" + steps.map { "\($0)\n" }.joined()
        for env in environments {
            guard let blocks = movedBlocks[env] else { continue }
            let directory = directories.first { $0.env == env }?.path ?? env
            text += "\n### \(directory)/moved.tf (\(env))\n\n```hcl\n\(blocks)```\n"
        }
        text += "\n### Draft tollgate.yaml\n\n```yaml\n\(pipeline)```\n"
        for (path, contents) in configFiles.sorted(by: { $0.key < $1.key }) {
            text += "\n### \(path)\n\n```hcl\n\(contents)```\n"
        }
        return text
    }
}
