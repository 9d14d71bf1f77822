/// The rules of a pipeline that span several entries: names unique, dependencies known and acyclic,
/// environments isolated from one another.
///
/// Shape errors (unknown keys, wrong types, missing settings) are found while the file is read;
/// these are the rules that need the whole model.
public enum PipelineValidator {
    /// `canonicalPath` resolves a local state path the way the file system will (symlinks), so two
    /// environments whose paths differ only by a link are caught; the core itself reads no files.
    public static func validate(_ pipeline: Pipeline, canonicalPath: (String) -> String = { $0 }) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        diagnostics += duplicateNames(pipeline.stacks.map(\.name), kind: "stack")
        diagnostics += duplicateNames(pipeline.environments.map(\.name), kind: "environment")
        diagnostics += dependencies(pipeline)
        diagnostics += sharedAccounts(pipeline)
        diagnostics += overlappingBackends(pipeline, canonicalPath: canonicalPath)
        diagnostics += backendPlaceholders(pipeline)
        diagnostics += gates(pipeline)
        if pipeline.environments.isEmpty {
            diagnostics.append(Diagnostic(at: SourceLocation(file: pipeline.file, line: 1, column: 1),
                                          "the pipeline declares no environments",
                                          hint: "add an 'environments' list, in promotion order (dev, stage, prod)"))
        }
        if pipeline.stacks.isEmpty {
            diagnostics.append(Diagnostic(at: SourceLocation(file: pipeline.file, line: 1, column: 1),
                                          "the pipeline declares no stacks",
                                          hint: "add a 'stacks' list naming each root module under stacks/"))
        }
        return diagnostics
    }

    static func duplicateNames(_ names: [Located<String>], kind: String) -> [Diagnostic] {
        var first: [String: Located<String>] = [:]
        var diagnostics: [Diagnostic] = []
        for name in names {
            if let earlier = first[name.value] {
                let whereEarlier = earlier.location.map { " (first declared at \($0))" } ?? ""
                diagnostics.append(Diagnostic(at: name.location, "duplicate \(kind) name '\(name.value)'\(whereEarlier)",
                                              hint: "give each \(kind) a unique name"))
            } else {
                first[name.value] = name
            }
        }
        return diagnostics
    }

    static func dependencies(_ pipeline: Pipeline) -> [Diagnostic] {
        let known = pipeline.stacks.map(\.name.value)
        var diagnostics: [Diagnostic] = []
        for stack in pipeline.stacks {
            for dependency in stack.dependsOn {
                if dependency.value == stack.name.value {
                    diagnostics.append(Diagnostic(at: dependency.location, "stack '\(stack.name.value)' depends on itself",
                                                  hint: "remove '\(dependency.value)' from its depends_on"))
                } else if !known.contains(dependency.value) {
                    let suggestion = Suggestion.closest(to: dependency.value, in: known)
                    diagnostics.append(Diagnostic(
                        at: dependency.location,
                        "stack '\(stack.name.value)' depends on unknown stack '\(dependency.value)'",
                        hint: suggestion.map { "did you mean '\($0)'?" } ?? "declare it under 'stacks' or remove it; known stacks: \(known.joined(separator: ", "))"))
                }
            }
        }
        if case .failure(let cycle) = StackOrder.order(pipeline.stacks) {
            let firstStack = pipeline.stack(named: cycle[0])
            let edge = firstStack?.dependsOn.first { $0.value == cycle[1 % cycle.count] }
            diagnostics.append(Diagnostic(at: edge?.location ?? firstStack?.name.location,
                                          "depends_on cycle: \((cycle + [cycle[0]]).map { "'\($0)'" }.joined(separator: " → "))",
                                          hint: "remove one of these dependencies so the stacks can be applied in order"))
        }
        return diagnostics
    }

    static func sharedAccounts(_ pipeline: Pipeline) -> [Diagnostic] {
        var owner: [String: Environment] = [:]
        var diagnostics: [Diagnostic] = []
        for environment in pipeline.environments {
            let account = environment.account.value
            if let other = owner[account], other.name.value != environment.name.value {
                diagnostics.append(Diagnostic(
                    at: environment.account.location,
                    "environments '\(other.name.value)' and '\(environment.name.value)' share account '\(account)'",
                    hint: "give each environment its own account so a change to one cannot touch the other"))
            } else {
                owner[account] = environment
            }
        }
        return diagnostics
    }

    static func overlappingBackends(_ pipeline: Pipeline, canonicalPath: (String) -> String) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var reported: Set<[String]> = []
        let environments = pipeline.environments
        for (i, a) in environments.enumerated() {
            for b in environments[(i + 1)...] where a.name.value != b.name.value {
                let pair = [a.name.value, b.name.value]
                for stack in pipeline.stacks where !reported.contains(pair) {
                    let name = stack.name.value
                    let locationA = a.backend.stateLocation(env: a.name.value, stack: name, baseDirectory: pipeline.baseDirectory, canonical: canonicalPath)
                    let locationB = b.backend.stateLocation(env: b.name.value, stack: name, baseDirectory: pipeline.baseDirectory, canonical: canonicalPath)
                    if locationA == locationB {
                        reported.insert(pair)
                        var diagnostic = Diagnostic(
                            at: b.backend.type.location,
                            "environments '\(a.name.value)' and '\(b.name.value)' resolve to the same state location for stack '\(name)' (\(locationB))",
                            hint: "put '{env}' in the backend's path or key, give each environment its own bucket or database, and check for symlinks between their state directories")
                        diagnostic.code = .backendOverlap
                        diagnostics.append(diagnostic)
                    } else if let databaseA = a.backend.databaseIdentity(env: a.name.value, stack: name),
                              let databaseB = b.backend.databaseIdentity(env: b.name.value, stack: name),
                              databaseA == databaseB {
                        reported.insert(pair)
                        var diagnostic = Diagnostic(
                            at: b.backend.type.location,
                            "environments '\(a.name.value)' and '\(b.name.value)' keep state in the same Postgres database '\(databaseB)'",
                            hint: "use one database per environment: the pg backend's advisory locks are database-wide, so shared databases block each other")
                        diagnostic.code = .sharedDatabase
                        diagnostics.append(diagnostic)
                    }
                }
            }
        }
        return diagnostics
    }

    static func backendPlaceholders(_ pipeline: Pipeline) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        if let ephemeral = pipeline.ephemeral {
            for (setting, name) in ephemeral.backend.unknownPlaceholders(allowed: EphemeralSettings.placeholders) {
                diagnostics.append(Diagnostic(at: setting.location, "backend setting '\(setting.key)' of 'ephemeral' uses unknown placeholder '{\(name)}'",
                                              hint: "only {ephemeral}, {env} and {stack} are substituted"))
            }
            if !ephemeral.backend.uses(placeholder: "ephemeral") {
                diagnostics.append(Diagnostic(at: ephemeral.backend.type.location, "the 'ephemeral' backend does not use '{ephemeral}' in any setting",
                                              hint: "put {ephemeral} in the state location (for example '../state/ephemeral/{ephemeral}/{stack}.tfstate'), so a copy can never write a real environment's state"))
            }
            if let like = ephemeral.like, pipeline.environment(named: like) == nil {
                diagnostics.append(Diagnostic(at: ephemeral.backend.type.location, "'ephemeral.like' names unknown environment '\(like)'",
                                              hint: "use one of: \(pipeline.environments.map(\.name.value).joined(separator: ", "))"))
            }
        }
        for environment in pipeline.environments {
            for (setting, name) in environment.backend.unknownPlaceholders() {
                diagnostics.append(Diagnostic(
                    at: setting.location,
                    "backend setting '\(setting.key)' of environment '\(environment.name.value)' uses unknown placeholder '{\(name)}'",
                    hint: "only {env} and {stack} are substituted"))
            }
            if environment.backend.type.value == "local",
               !environment.backend.settings.contains(where: { $0.key == "path" }) {
                diagnostics.append(Diagnostic(
                    at: environment.backend.type.location,
                    "local backend of environment '\(environment.name.value)' has no 'path'",
                    hint: "set settings.path, for example '../state/{env}/{stack}.tfstate'; without it the state would live in a throw-away work dir"))
            }
        }
        return diagnostics
    }

    static func gates(_ pipeline: Pipeline) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        for environment in pipeline.environments {
            guard case .approval(let gate) = environment.gate.value else { continue }
            if gate.required < 1 {
                diagnostics.append(Diagnostic(at: environment.gate.location,
                                              "approval gate of environment '\(environment.name.value)' requires \(gate.required) approvals",
                                              hint: "set 'required' to 1 or more"))
            }
            let distinct = Set(gate.approvers)
            if distinct.count < gate.required {
                diagnostics.append(Diagnostic(
                    at: environment.gate.location,
                    "approval gate of environment '\(environment.name.value)' requires \(gate.required) approvals but lists \(distinct.count) distinct approvers",
                    hint: "add approvers or lower 'required'; the author of a change can never approve it"))
            }
        }
        return diagnostics
    }
}

/// Dependency order of stacks: every stack after the stacks it depends on.
public enum StackOrder {
    /// Stacks in an order where each comes after its dependencies, ties kept in declaration order;
    /// on a cycle, the names along it. Unknown dependencies are ignored here (the validator reports them).
    public static func order(_ stacks: [Stack]) -> Result<[String], CycleError> {
        let names = stacks.map(\.name.value)
        let known = Set(names)
        // Self-dependencies are reported on their own by the validator, not as a cycle.
        var remaining = Dictionary(stacks.map { stack in
            (stack.name.value, Set(stack.dependsOn.map(\.value).filter { known.contains($0) && $0 != stack.name.value }))
        },
                                   uniquingKeysWith: { a, b in a.union(b) })
        var ordered: [String] = []
        while !remaining.isEmpty {
            guard let next = names.first(where: { name in remaining[name].map { $0.isSubset(of: Set(ordered)) } ?? false }) else {
                return .failure(CycleError(stacks: findCycle(in: remaining, names: names)))
            }
            ordered.append(next)
            remaining[next] = nil
        }
        return .success(ordered)
    }

    public struct CycleError: Error, Equatable, Sendable, RandomAccessCollection {
        public var stacks: [String]
        public var startIndex: Int { stacks.startIndex }
        public var endIndex: Int { stacks.endIndex }
        public subscript(position: Int) -> String { stacks[position] }
    }

    static func findCycle(in graph: [String: Set<String>], names: [String]) -> [String] {
        // Walk from the first blocked stack along unresolved dependencies until a name repeats.
        var path: [String] = []
        var current = names.first { graph[$0] != nil }!
        while !path.contains(current) {
            path.append(current)
            current = names.first { graph[current]!.contains($0) && graph[$0] != nil }!
        }
        return Array(path[path.firstIndex(of: current)!...])
    }
}
