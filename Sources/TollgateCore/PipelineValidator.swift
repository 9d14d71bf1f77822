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
        let declared = Set(known)
        var diagnostics: [Diagnostic] = []
        for stack in pipeline.stacks {
            for dependency in stack.dependsOn {
                if dependency.value == stack.name.value {
                    diagnostics.append(Diagnostic(at: dependency.location, "stack '\(stack.name.value)' depends on itself",
                                                  hint: "remove '\(dependency.value)' from its depends_on"))
                } else if !declared.contains(dependency.value) {
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
        let environments = pipeline.environments
        // Each environment's state location and database for every stack, worked out once.
        let places = environments.map { environment in
            pipeline.stacks.map { stack in
                (location: environment.backend.stateLocation(env: environment.name.value, stack: stack.name.value,
                                                             baseDirectory: pipeline.baseDirectory, canonical: canonicalPath),
                 database: environment.backend.databaseIdentity(env: environment.name.value, stack: stack.name.value))
            }
        }
        for (i, a) in environments.enumerated() {
            for (j, b) in environments.enumerated().dropFirst(i + 1) where a.name.value != b.name.value {
                for (index, stack) in pipeline.stacks.enumerated() {
                    let name = stack.name.value
                    let (locationA, databaseA) = places[i][index]
                    let (locationB, databaseB) = places[j][index]
                    if locationA == locationB {
                        var diagnostic = Diagnostic(
                            at: b.backend.type.location,
                            "environments '\(a.name.value)' and '\(b.name.value)' resolve to the same state location for stack '\(name)' (\(locationB))",
                            hint: "put '{env}' in the backend's path or key, give each environment its own bucket or database, and check for symlinks between their state directories")
                        diagnostic.code = .backendOverlap
                        diagnostics.append(diagnostic)
                        break
                    } else if let databaseA, let databaseB, databaseA == databaseB {
                        var diagnostic = Diagnostic(
                            at: b.backend.type.location,
                            "environments '\(a.name.value)' and '\(b.name.value)' keep state in the same Postgres database '\(databaseB)'",
                            hint: "use one database per environment: the pg backend's advisory locks are database-wide, so shared databases block each other")
                        diagnostic.code = .sharedDatabase
                        diagnostics.append(diagnostic)
                        break
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
        // Kahn's algorithm over declaration indexes, taking the earliest-declared ready stack each
        // time: the order of the quadratic "first stack whose dependencies are all placed" rule, in
        // O((stacks + edges) log stacks).
        var index: [String: Int] = [:]
        var names: [String] = []
        for stack in stacks where index[stack.name.value] == nil {
            index[stack.name.value] = names.count
            names.append(stack.name.value)
        }
        // Self-dependencies are reported on their own by the validator, not as a cycle; a stack
        // declared twice has the union of its dependencies.
        var dependencies = [Set<Int>](repeating: [], count: names.count)
        for stack in stacks {
            let me = index[stack.name.value]!
            for dependency in stack.dependsOn {
                if let other = index[dependency.value], other != me { dependencies[me].insert(other) }
            }
        }
        var dependents = [[Int]](repeating: [], count: names.count)
        var waiting = [Int](repeating: 0, count: names.count)
        for (me, set) in dependencies.enumerated() {
            waiting[me] = set.count
            for other in set { dependents[other].append(me) }
        }
        var ready = MinHeap(waiting.indices.filter { waiting[$0] == 0 })
        var ordered: [String] = []
        ordered.reserveCapacity(names.count)
        while let next = ready.pop() {
            ordered.append(names[next])
            for dependent in dependents[next] {
                waiting[dependent] -= 1
                if waiting[dependent] == 0 { ready.push(dependent) }
            }
        }
        guard ordered.count == names.count else {
            return .failure(CycleError(stacks: findCycle(dependencies: dependencies, blocked: waiting.map { $0 > 0 }, names: names)))
        }
        return .success(ordered)
    }

    public struct CycleError: Error, Equatable, Sendable, RandomAccessCollection {
        public var stacks: [String]
        public var startIndex: Int { stacks.startIndex }
        public var endIndex: Int { stacks.endIndex }
        public subscript(position: Int) -> String { stacks[position] }
    }

    /// From the first blocked stack, follows its earliest-declared blocked dependency until a stack
    /// repeats, and returns the loop. Every blocked stack has a blocked dependency, so this ends.
    static func findCycle(dependencies: [Set<Int>], blocked: [Bool], names: [String]) -> [String] {
        var position: [Int: Int] = [:]
        var path: [Int] = []
        var current = blocked.firstIndex(of: true)!
        while position[current] == nil {
            position[current] = path.count
            path.append(current)
            current = dependencies[current].filter { blocked[$0] }.min()!
        }
        return path[position[current]!...].map { names[$0] }
    }
}

/// The smallest of a set of integers, popped one at a time.
struct MinHeap {
    private var items: [Int] = []

    init(_ values: [Int]) {
        for value in values { push(value) }
    }

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count, items[left] < items[smallest] { smallest = left }
            if right < items.count, items[right] < items[smallest] { smallest = right }
            guard smallest != parent else { return first }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
