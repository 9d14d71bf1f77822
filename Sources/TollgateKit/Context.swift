import Foundation
import TollgateCore

/// The ports and settings every flow needs, wired once by the composition root.
public struct Context: Sendable {
    public var pipeline: Pipeline
    public var engine: any Engine
    public var ledger: any Ledger
    public var artifacts: any ArtifactStore
    public var git: any Git
    public var signatures: any Signatures
    public var shell: any Shell
    public var effects: Effects
    /// Where fresh work dirs are made (`.tollgate/work`).
    public var workRoot: String
    /// Who is acting: TOLLGATE_ACTOR, the CI's actor, or git's user.email.
    public var actor: String
    public var host: String
    public var pid: Int32
    /// The CI run this process belongs to, when the CI says (recorded on the lock it holds).
    public var runURL: String?
    /// The CI run this process belongs to, as its variables describe it; every event the ledger
    /// writes carries it.
    public var ci: CIContext?
    /// Says something to the operator on stderr that is neither a result nor an error (a shallow
    /// clone being deepened); silent unless the composition root wires it.
    public var notice: @Sendable (String) -> Void = { _ in }
    /// Hears each step of a stack's work as it starts and ends (`ProgressEvent`); silent unless
    /// the composition root wires it.
    public var progress: @Sendable (ProgressEvent) -> Void = { _ in }
    /// On-merge answers already found by this process.
    public var mergeChecks = MergeCheckCache()
    /// How long an apply's lock lease lasts without renewal; renewed every third of it.
    public var lease: TimeInterval = LockRecord.defaultLease
    public var processEnvironment: [String: String]
    /// Reads a pipeline file's bytes (the one sealed in a release) into a model.
    public var parsePipeline: @Sendable (Data) throws -> Pipeline
    /// The release whose sealed pipeline `pipeline` is, once `sealed(_:)` has read it.
    var sealedRelease: String?
    /// The Rego engine `policies.engine` names, located only when a policy is evaluated.
    public var policyEngine: @Sendable (PolicyEngineChoice) throws -> any PolicyEngine = { choice in
        throw PolicyError.engineNotFound(choice: choice.rawValue, searched: [], install: "this command does not evaluate policies")
    }

    public init(pipeline: Pipeline, engine: any Engine, ledger: any Ledger, artifacts: any ArtifactStore, git: any Git,
                signatures: any Signatures, shell: any Shell, effects: Effects, workRoot: String, actor: String,
                host: String, pid: Int32, processEnvironment: [String: String],
                parsePipeline: @escaping @Sendable (Data) throws -> Pipeline) {
        self.pipeline = pipeline
        self.engine = engine
        self.ledger = ledger
        self.artifacts = artifacts
        self.git = git
        self.signatures = signatures
        self.shell = shell
        self.effects = effects
        self.workRoot = workRoot
        self.actor = actor
        self.host = host
        self.pid = pid
        self.processEnvironment = processEnvironment
        self.parsePipeline = parsePipeline
    }

    /// This context with the pipeline sealed in `release`: plans and applies never re-read the
    /// working tree's pipeline file once a release is cut.
    public func sealed(_ release: Release) async throws -> Context {
        // Promote seals once; the planner and applier it calls need not read the bundle again.
        if sealedRelease == release.id { return self }
        let name = (pipeline.file as NSString).lastPathComponent
        guard let entry = try TarArchive.read(try await artifacts.get(release.id)).first(where: { $0.path == name }) else {
            throw KitError.step("release \(Digest.short(release.id)) has no '\(name)'; cut the release again")
        }
        var copy = self
        copy.pipeline = try parsePipeline(entry.contents)
        copy.sealedRelease = release.id
        return copy
    }

    func environment(_ name: String) throws -> Environment {
        guard let environment = pipeline.environment(named: name) else {
            throw KitError.unknownEnvironment(name, known: pipeline.environments.map(\.name.value))
        }
        return environment
    }

    /// A release by its full id or an unambiguous prefix (`sha256:9c1e`).
    public func release(_ reference: String) async throws -> Release {
        if let release = try await ledger.release(id: reference) { return release }
        let matches = try await ledger.releases().filter { $0.id.hasPrefix(reference) || $0.id.dropFirst(7).hasPrefix(reference) }
        guard matches.count == 1 else {
            throw KitError.notFound(kind: "release", reference: reference, ambiguous: matches.count > 1,
                                    hint: "run 'tollgate release' to cut one, or 'tollgate status' to see the known releases")
        }
        return matches[0]
    }

    /// A plan by its id or an unambiguous prefix.
    public func plan(_ reference: String) async throws -> PlanRecord {
        if let plan = try await ledger.plan(id: reference) { return plan }
        let matches = try await ledger.plans(env: nil, stack: nil).filter { $0.id.hasPrefix(reference) }
        guard matches.count == 1 else {
            throw KitError.notFound(kind: "plan", reference: reference, ambiguous: matches.count > 1,
                                    hint: "run 'tollgate status' to see the plans waiting")
        }
        return matches[0]
    }

    /// Whether `release` was applied successfully to `env` for `stack`.
    func appliedSuccessfully(release: String, env: String, stack: String) async throws -> Bool {
        let plans = Dictionary(uniqueKeysWithValues: try await ledger.plans(env: env, stack: stack).map { ($0.id, $0.releaseID) })
        return try await ledger.applies(env: env, stack: stack).contains { $0.outcome == .success && plans[$0.planID] == release }
    }

    /// The order rule: the release reached the previous environment for this stack, or this
    /// environment already ran it (a rollback to a release it had before).
    func orderSatisfied(release: String, env: String, stack: String, previous: String?) async throws -> Bool {
        guard let previous else { return true }
        if try await appliedSuccessfully(release: release, env: previous, stack: stack) { return true }
        return try await appliedSuccessfully(release: release, env: env, stack: stack)
    }

    /// Records a refusal on the audit log and returns the error to throw.
    func refuse(_ refusals: [GateDecision.Refusal], subjects: [String: String]) async -> KitError {
        try? await ledger.appendEvent(AuditEntry(actor: actor, kind: "refused", subjects: subjects,
                                                 payload: ["rules": .array(refusals.map { .string($0.rule.rawValue) }),
                                                           "reasons": .array(refusals.map { .string($0.message) })]))
        return .refused(refusals)
    }

    /// The identity guard; a mismatch is put on the record as a refusal before it is thrown.
    func checkIdentity(_ environment: Environment, subjects: [String: String]) async throws {
        do {
            try await IdentityGuard(shell: shell, directory: pipeline.baseDirectory).check(environment)
        } catch let error as KitError where error.isRefusal {
            try? await ledger.appendEvent(AuditEntry(actor: actor, kind: "refused", subjects: subjects,
                                                     payload: ["rules": ["identity"], "reasons": [.string(error.description)]]))
            throw error
        }
    }

    func stacks(only: [String]) throws -> [Stack] {
        let known = pipeline.stacks.map(\.name.value)
        for name in only where !known.contains(name) { throw KitError.unknownStack(name, known: known) }
        switch StackOrder.order(pipeline.stacks) {
        case .failure(let cycle): throw KitError.cycle(cycle.stacks)
        case .success(let order):
            return order.filter { only.isEmpty || only.contains($0) }.compactMap { pipeline.stack(named: $0) }
        }
    }

    /// The environment's backend settings for one stack; a local path is made absolute against the
    /// pipeline's directory, since the engine runs in a work dir elsewhere.
    public func backendSettings(_ environment: Environment, stack: String) -> [(key: String, value: BackendValue)] {
        backendSettings(environment.backend, values: ["env": environment.name.value, "stack": stack])
    }

    /// A backend's settings with placeholders filled and local paths made absolute.
    func backendSettings(_ backend: Backend, values: [String: String]) -> [(key: String, value: BackendValue)] {
        backend.resolved(values).map { key, value in
            if backend.type.value == "local", key == "path" || key == "workspace_dir", case .string(let path) = value {
                return (key, .string(PathText.absolute(path, base: pipeline.baseDirectory)))
            }
            return (key, value)
        }
    }

    /// A fresh work dir holding the release's files, for one (env, stack) run.
    func workDirectory(release: Release, env: String, stack: Stack, purpose: String) async throws -> (root: String, workspace: String, data: String) {
        let run = "\(Self.timestamp(effects.now()))-\(purpose)-\(effects.newID())"
        let root = "\(workRoot)/\(run)/\(env)/\(stack.name.value)"
        do {
            try FileManager.default.createDirectory(atPath: root + "/src", withIntermediateDirectories: true)
            try ReleaseArchive.extract(try await artifacts.get(release.id), to: root + "/src")
        } catch let error as KitError {
            throw error
        } catch {
            throw KitError.fileSystem(path: root, reason: "\(error)")
        }
        return (root, root + "/src/" + stack.path, root + "/data")
    }

    /// A release's sealed files by path.
    func files(ofRelease id: String) async throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for entry in try TarArchive.read(try await artifacts.get(id)) { files[entry.path] = Array(entry.contents) }
        return files
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        return formatter.string(from: date)
    }

    /// The principal the environment's signers file in force maps a key to; an unlisted key is a
    /// recorded refusal.
    func signer(forKey keyPath: String, env: String, release: Release?, subjects: [String: String]) async throws -> String {
        let signers = try await GovernanceResolver(context: self).signersPath(env: env, fallback: release)
        guard let path = signers.path, let principal = try await signatures.principals(forKey: keyPath, allowedSigners: path).first else {
            throw await refuse([.init(rule: .signer, message: "the key '\(keyPath)' is not in \(signers.origin); sign with a key listed there")], subjects: subjects)
        }
        if !isPlainPrincipal(principal) {
            throw await refuse([.init(rule: .signer, message: "the key '\(keyPath)' is listed in \(signers.origin) under the pattern '\(principal)', which names no one person; list it under a plain principal")], subjects: subjects)
        }
        return principal
    }

    /// Checks a signature against the environment's signers file in force (drift acknowledgements,
    /// break-glass reviews); false when there is none.
    func verifiesInForce(_ payload: String, signature: String, principal: String, env: String, release: Release?) async -> Bool {
        guard let path = try? await GovernanceResolver(context: self).signersPath(env: env, fallback: release).path else { return false }
        return (try? await signatures.verify(payload, signature: signature, principal: principal, allowedSigners: path)) ?? false
    }

    /// Signs canonical bytes with an SSH key; a signing failure is a step error naming the cause.
    func sign(_ payload: String, keyPath: String) async throws -> String {
        do {
            return try await signatures.sign(payload, keyPath: keyPath)
        } catch {
            throw KitError.step("\(error)")
        }
    }

    /// The var files of one (env, stack) in an unpacked release: `config/ENV/common.tfvars` then
    /// `config/ENV/STACK.tfvars`, those that exist.
    func varFiles(root: String, env: String, stack: Stack) -> [String] {
        ["common", stack.name.value].map { "\(root)/src/config/\(env)/\($0).tfvars" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Secret values of an environment, resolved now, for the engine and for redaction.
    func secretVariables(_ environment: Environment) async throws -> [String: String] {
        try await SecretResolver(processEnvironment: processEnvironment, shell: shell, directory: pipeline.baseDirectory).variables(for: environment)
    }
}
