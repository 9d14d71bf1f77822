import Foundation
import TollgateCore

/// Plans every stack of one environment, in dependency order, each in a fresh work dir.
///
/// The source is a directory tree laid out like the repository (stacks/, modules/, config/). Today
/// that is the working tree; once releases land it is the unpacked release, so the planner never
/// needs to know which.
public struct Planner: Sendable {
    public var pipeline: Pipeline
    public var engine: any Engine
    public var identity: IdentityGuard
    public var secrets: SecretResolver
    public var effects: Effects
    /// Where fresh work dirs are made (`.tollgate/work`).
    public var workRoot: String

    public init(pipeline: Pipeline, engine: any Engine, identity: IdentityGuard, secrets: SecretResolver, effects: Effects, workRoot: String) {
        self.pipeline = pipeline
        self.engine = engine
        self.identity = identity
        self.secrets = secrets
        self.effects = effects
        self.workRoot = workRoot
    }

    /// One stack's saved plan.
    public struct StackPlan: Sendable, Codable, Equatable {
        public var env: String
        public var stack: String
        public var workDirectory: String
        public var planFile: String
        public var planJSONFile: String
        public var hasChanges: Bool
        public var summary: PlanSummary
        public var engine: EngineInfo
    }

    /// The stacks to plan: `only` (validated) or all, in dependency order.
    public func stacks(only: [String]) throws -> [Stack] {
        let known = pipeline.stacks.map(\.name.value)
        for name in only where !known.contains(name) { throw KitError.unknownStack(name, known: known) }
        switch StackOrder.order(pipeline.stacks) {
        case .failure(let cycle): throw KitError.cycle(cycle.stacks)
        case .success(let order):
            return order.filter { only.isEmpty || only.contains($0) }.compactMap { pipeline.stack(named: $0) }
        }
    }

    public func plan(env name: String, stacks only: [String] = [], source: String) async throws -> [StackPlan] {
        guard let environment = pipeline.environment(named: name) else {
            throw KitError.unknownEnvironment(name, known: pipeline.environments.map(\.name.value))
        }
        let selected = try stacks(only: only)
        try await identity.check(environment)
        let variables = try await secrets.variables(for: environment)
        let run = "\(Self.timestamp(effects.now()))-\(effects.newID())"
        var plans: [StackPlan] = []
        for stack in selected {
            plans.append(try await plan(stack, in: environment, source: source, run: run, variables: variables))
        }
        return plans
    }

    func plan(_ stack: Stack, in environment: Environment, source: String, run: String, variables: [String: String]) async throws -> StackPlan {
        let env = environment.name.value
        let base = "\(workRoot)/\(run)/\(env)/\(stack.name.value)"
        let tree = base + "/src"
        try WorkTree.copy(from: source, paths: [stack.path, "modules"], to: tree)
        let workspace = EngineWorkspace(directory: tree + "/" + stack.path, dataDirectory: base + "/data", variables: variables)
        try await engine.initialize(workspace, backend: backendSettings(environment, stack: stack.name.value))
        let planFile = base + "/plan.tfplan"
        let changes = try await engine.plan(workspace, planFile: planFile, varFiles: varFiles(env: env, stack: stack.name.value, source: source))
        let json = try await engine.showJSON(workspace, planFile: planFile)
        let jsonFile = base + "/plan.json"
        do {
            try json.write(to: URL(fileURLWithPath: jsonFile), options: .atomic)
        } catch {
            throw KitError.fileSystem(path: jsonFile, reason: error.localizedDescription)
        }
        let summary = PlanSummary(try PlanJSON.decode(json))
        return StackPlan(env: env, stack: stack.name.value, workDirectory: workspace.directory, planFile: planFile,
                         planJSONFile: jsonFile, hasChanges: changes, summary: summary, engine: engine.info)
    }

    /// The environment's backend settings for one stack; a local path is made absolute against the
    /// pipeline's directory, since the engine runs in a work dir elsewhere.
    public func backendSettings(_ environment: Environment, stack: String) -> [(key: String, value: BackendValue)] {
        environment.backend.resolved(env: environment.name.value, stack: stack).map { key, value in
            if environment.backend.type.value == "local", key == "path" || key == "workspace_dir", case .string(let path) = value {
                return (key, .string(PathText.absolute(path, base: pipeline.baseDirectory)))
            }
            return (key, value)
        }
    }

    /// `config/ENV/common.tfvars` then `config/ENV/STACK.tfvars`, those that exist.
    public func varFiles(env: String, stack: String, source: String) -> [String] {
        ["common", stack].map { "\(source)/config/\(env)/\($0).tfvars" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        return formatter.string(from: date)
    }
}

/// Copies parts of a source tree into a fresh work dir, skipping engine caches.
enum WorkTree {
    static let skipped: Set<String> = [".terraform", ".git", ".tollgate"]

    static func copy(from source: String, paths: [String], to destination: String) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: destination, withIntermediateDirectories: true)
            for path in paths {
                let from = source + "/" + path
                guard manager.fileExists(atPath: from) else { continue }
                try copyTree(from, to: destination + "/" + path)
            }
        } catch let error as KitError {
            throw error
        } catch {
            throw KitError.fileSystem(path: destination, reason: error.localizedDescription)
        }
    }

    static func copyTree(_ from: String, to: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: from, isDirectory: &isDirectory) else { return }
        if !isDirectory.boolValue {
            try manager.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try manager.copyItem(atPath: from, toPath: to)
            return
        }
        try manager.createDirectory(atPath: to, withIntermediateDirectories: true)
        for entry in try manager.contentsOfDirectory(atPath: from) where !skipped.contains(entry) && !entry.hasSuffix(".tfstate") {
            try copyTree(from + "/" + entry, to: to + "/" + entry)
        }
    }
}
