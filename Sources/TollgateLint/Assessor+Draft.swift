import Foundation
import HCL

/// The draft `tollgate.yaml`, its `config/ENV/` files and the migration plan.
extension Assessor {
    /// A draft tollgate.yaml (each environment keeps its existing state location) and config files.
    func draft(_ discovery: Discovery, parsed: [String: HCLFile], accounts: [AccountDetection.Account],
               consolidations: [(stack: StackLayout, plan: Consolidation)], notes: inout [String]) -> (String, [String: String]) {
        let environments = discovery.environments
        let stacks = discovery.stacks
        var yaml = """
            # Draft written by 'tollgate assess': review every REPLACE before use.
            version: 1
            engine:
              binary: terraform
              version: ">= 1.0.0"
            main_branch: main
            approvers: .tollgate/allowed_signers
            stacks:\(stacks.isEmpty ? " []" : "")

            """
        for stack in stacks {
            yaml += "  - name: \(stack.name)\n"
            let known = stack.dependsOn.filter { name in stacks.contains { $0.name == name } }
            if !known.isEmpty { yaml += "    depends_on: [\(known.joined(separator: ", "))]\n" }
        }
        // Empty lists stay lists, so 'validate' says what is missing rather than that a list is null.
        yaml += "environments:\(environments.isEmpty ? " []" : "")\n"
        // tollgate refuses two environments in one account, so only the first keeps a shared one.
        var owners: [String: String] = [:]
        var configs: [String: String] = [:]
        for (index, env) in environments.enumerated() {
            let gate: String
            if index == environments.count - 1 && environments.count > 1 {
                gate = "\n      type: approval\n      required: 1\n      approvers: [REPLACE-approver@example.com]\n      max_plan_age: 24h"
            } else {
                gate = index == 0 ? " auto" : " on-merge"
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
            let backend = stateBackend(env, discovery, parsed: parsed, notes: &notes)
            let settings = backend.settings.isEmpty ? [(key: "key", value: "REPLACE-\(env)")] : backend.settings
            let backendText = "      type: \(backend.type)\n      settings:\n" + settings.map { "        \($0.key): \(quoted($0.value))" }.joined(separator: "\n")
            yaml += """
                  - name: \(env)
                    \(account)
                    backend:
                \(backendText)
                    gate:\(gate)

                """
            for stack in stacks where stack.paths.isEmpty || stack.paths[env] != nil {
                var values: [String] = []
                if let unit = discovery.terragrunt?.units.first(where: { $0.env == env && $0.stack == stack.name }) {
                    values = unit.inputs
                } else if let path = discovery.tfvars[env], let file = parsed[path] {
                    // Values that are literal in the environment's tfvars become its config.
                    values = file.body.attributes.map { file.text(of: $0.range) }
                } else if let directory = stack.paths[env] {
                    for (path, file) in parsed.sorted(by: { $0.key < $1.key }) where Linter.directlyInside(path, directory) && path.hasSuffix(".tfvars") {
                        values += file.body.attributes.map { file.text(of: $0.range) }
                    }
                }
                values += consolidations.first { $0.stack.name == stack.name }?.plan.flags(for: env) ?? []
                configs["config/\(env)/\(stack.name).tfvars"] = values.joined(separator: "\n") + (values.isEmpty ? "" : "\n")
            }
        }
        return (yaml, configs)
    }

    /// A setting's value in YAML: quoted, as the draft always writes backend settings, except
    /// `{stack}`-only paths that the old drafts wrote bare.
    func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The one backend an environment's stacks share in the draft, keeping each stack's state
    /// where it is today wherever one pattern with `{stack}` describes them all.
    func stateBackend(_ env: String, _ discovery: Discovery, parsed: [String: HCLFile], notes: inout [String]) -> StateBackend {
        if let terragrunt = discovery.terragrunt {
            let found = discovery.stacks.compactMap { stack in terragrunt.backends[env]?[stack.name].map { (stack: stack.name, backend: $0) } }
            return Self.template(found, env: env, notes: &notes)
                ?? StateBackend(type: "local", settings: [("path", "state/\(env)/{stack}.tfstate")])
        }
        let directories = discovery.stacks.compactMap { stack in stack.paths[env].map { (stack: stack.name, directory: $0) } }
        if !directories.isEmpty {
            let found = directories.map { stack, directory -> (stack: String, backend: StateBackend) in
                guard var backend = Self.backend(in: directory, parsed: parsed) else {
                    return (stack, StateBackend(type: "local", settings: [("path", "\(directory)/terraform.tfstate")]))
                }
                if backend.type == "local" {
                    // A local path is relative to the directory the engine ran in; the draft's to the repository.
                    let path = backend.settings.first { $0.key == "path" }?.value ?? "terraform.tfstate"
                    backend.settings = [("path", Terragrunt.join(directory, path))] + backend.settings.filter { $0.key != "path" && $0.key != "workspace_dir" }
                }
                return (stack, backend)
            }
            return Self.template(found, env: env, notes: &notes)!
        }
        if discovery.styles.contains(.workspaces) {
            // One root, one backend: a workspace's state sits under the backend's workspace prefix.
            let root = Self.rootModules(parsed).first ?? "."
            if let backend = Self.backend(in: root, parsed: parsed), backend.type == "s3",
               let key = backend.settings.first(where: { $0.key == "key" })?.value {
                let prefix = backend.settings.first { $0.key == "workspace_key_prefix" }?.value ?? "env:"
                return StateBackend(type: "s3", settings: backend.settings.filter { $0.key != "workspace_key_prefix" }
                    .map { $0.key == "key" ? ("key", "\(prefix)/\(env)/\(key)") : $0 })
            }
            return StateBackend(type: "local", settings: [("path", Terragrunt.join(root, "terraform.tfstate.d/\(env)/terraform.tfstate"))])
        }
        return StateBackend(type: "local", settings: [("path", "state/\(env)/{stack}.tfstate")])
    }

    /// One backend for several stacks: each setting with the stack's name, as a path component,
    /// replaced by `{stack}`. Where the stacks follow no one pattern the first stack's value is
    /// kept and a note says whose state would move.
    static func template(_ backends: [(stack: String, backend: StateBackend)], env: String, notes: inout [String]) -> StateBackend? {
        guard let first = backends.first else { return nil }
        guard backends.count > 1 else { return first.backend }
        func replace(_ stack: String, in value: String) -> String {
            value.split(separator: "/", omittingEmptySubsequences: false).map { $0 == stack ? "{stack}" : String($0) }.joined(separator: "/")
        }
        var settings: [(key: String, value: String)] = []
        for (key, value) in first.backend.settings {
            let pattern = replace(first.stack, in: value)
            let others = backends.filter { stack, backend in backend.settings.first { $0.key == key }.map { replace(stack, in: $0.value) } != pattern }
            if !others.isEmpty {
                notes.append("\(env): backend setting '\(key)' follows no one pattern across its stacks; the draft has '\(pattern)', so the state of "
                    + others.map { "'\($0.stack)'" }.joined(separator: ", ") + " would move: set it there by hand or move that state first")
            }
            settings.append((key, pattern))
        }
        let types = Set(backends.map(\.backend.type))
        if types.count > 1 {
            notes.append("\(env): its stacks use different backend types (\(types.sorted().joined(separator: ", "))); the draft uses '\(first.backend.type)' for all of them")
        }
        return StateBackend(type: first.backend.type, settings: settings)
    }

    func steps(_ discovery: Discovery, consolidations: [(stack: StackLayout, plan: Consolidation)]) -> [String] {
        let styles = discovery.styles
        var steps = [
            "1. Add tollgate.yaml (the draft below) and .tollgate/allowed_signers; run 'tollgate validate'. Risk: none, nothing is applied.",
        ]
        if let terragrunt = discovery.terragrunt {
            let sources = terragrunt.stacks.map { "\($0.name) (\($0.source ?? "no source"))" }.joined(separator: ", ")
            steps += [
                "2. For each stack, write stacks/NAME/ as a root module that calls the module its units deploy: \(sources); one variable per input, the providers the root configuration generates, and an empty backend block of the type in the draft. Risk: low, code only.",
                "3. Each unit's inputs are in config/ENV/STACK.tfvars (drafts below). Inputs read from another unit's outputs are commented out there: read them with terraform_remote_state or pass them as variables; the draft's depends_on keeps the units' order. Risk: low.",
                "4. Keep each unit's state where remote_state puts it (the draft's backend, with the unit's directory as {stack}). A stack that calls the module puts every resource under module.NAME, so add moved { from = ADDRESS to = module.NAME.ADDRESS } for each address 'terraform state list' shows in the unit, or copy the module's code into stacks/NAME instead. Risk: low; the plan must show only moves.",
                "5. Plan every environment with 'tollgate release' + 'tollgate plan RELEASE --env ENV' and require no changes before the first apply. Risk: a non-empty plan means an input was lost in step 3; fix it before applying.",
                "6. Remove terragrunt.hcl, account.hcl, env.hcl, region.hcl and _envcommon/ once every environment plans clean, then make 'lint' a check of every environment. Risk: low.",
            ]
            return steps + outsideStep(discovery, number: 7)
        }
        if styles.contains(.directoryPerEnvironment) {
            steps.append("2. Copy the most complete environment directory of each stack to stacks/NAME; turn every value that differs between environment directories into a variable, and put each environment's value in config/ENV/NAME.tfvars. Risk: low, code only.")
        } else if styles.contains(.branchPerEnvironment) {
            steps.append("2. Merge the environment branches' differences into variables on main, with each branch's values in config/ENV/; stop committing to the environment branches. Risk: medium, review each differing file.")
        } else {
            steps.append("2. Replace terraform.workspace and per-environment maps with variables set in config/ENV/. Risk: low, code only.")
        }
        let keep = "3. Keep each environment's existing state location as its backend (already in the draft), so no state moves."
        let moves = consolidations.flatMap(\.plan.moves), conditionals = consolidations.flatMap(\.plan.conditionals)
        if !styles.contains(.directoryPerEnvironment) {
            steps.append(keep + (styles.contains(.branchPerEnvironment)
                ? " If an environment branch names a resource differently, rename it on that branch first and apply it there with moved { from = OLD to = NEW } blocks."
                : " The code is already shared, so every resource keeps its address and no moved blocks are needed."))
        } else if moves.isEmpty && conditionals.isEmpty {
            steps.append(keep + " No moved blocks are needed: every resource and module call has the same address in every environment directory.")
        } else {
            var text = keep + " First give every resource the address it will have in the shared stack, in each environment directory on its own: "
                + "rename the blocks listed here (and their references), add the count or for_each for the conditional ones, put the environment's moved blocks (below) in its directory as moved.tf, and apply it there. "
                + "One shared stack cannot hold them, since two moved blocks may not move to the same address. Risk: low; the plan must show only moves."
            for (stack, plan) in consolidations {
                for move in plan.moves {
                    text += "\n   - \(move.env) (\(stack.paths[move.env] ?? move.env)): \(move.from) → \(move.to)"
                }
                let unchanged = stack.paths.keys.filter { env in !plan.moves.contains { $0.env == env } }
                if !unchanged.isEmpty && (!plan.moves.isEmpty || consolidations.count == 1) {
                    text += "\n   - no moves in " + Self.promotionOrder(unchanged).map { consolidations.count == 1 ? $0 : "\($0) (\(stack.paths[$0] ?? $0))" }.joined(separator: ", ")
                }
                for block in plan.conditionals {
                    text += "\n   - \(block.address) is only in \(block.environments.joined(separator: ", ")), not in \(block.missing.joined(separator: ", ")): "
                        + "it becomes conditional on the config flag '\(block.flag)' (variable of type bool, default false) through its \(block.meta): '\(block.argument)'; "
                        + "\(block.flag) = true in " + block.environments.map { "config/\($0)/\(stack.name).tfvars" }.joined(separator: ", ") + " and false in the others (already in the drafts)"
                }
            }
            steps.append(text)
        }
        steps += [
            "4. Plan every environment with 'tollgate release' + 'tollgate plan RELEASE --env ENV' and require no changes before the first apply. Risk: a non-empty plan means a value was lost in step 2; fix it before applying.",
            "5. Fix the lint findings below, then make 'lint' a check of every environment. Risk: low.",
        ]
        return steps + outsideStep(discovery, number: 6)
    }

    /// What to do with root modules that belong to no environment.
    func outsideStep(_ discovery: Discovery, number: Int) -> [String] {
        guard !discovery.outside.isEmpty else { return [] }
        return ["\(number). " + discovery.outside.joined(separator: ", ")
            + (discovery.outside.count == 1 ? " is" : " are") + " in no environment (shared or global code, or a directory whose environment could not be told). "
            + "tollgate applies every stack to every environment, so give such code a tollgate.yaml of its own with one environment, or keep it out of the pipeline. Risk: none."]
    }
}
