import ArgumentParser
import Foundation
import TollgateConfig
import TollgateCore
import TollgateEngine
import TollgateKit
import TollgatePolicy
import TollgateStore
import TollgateStorePostgres

/// The composition root: loads the pipeline and wires the concrete adapters into the services.
struct Composition {
    let options: GlobalOptions
    let environment: [String: String]

    init(options: GlobalOptions, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.options = options
        self.environment = environment
    }

    /// Loads the pipeline, wires the context and runs a command's body, reporting any failure with
    /// its exit code: the shape every ledger-backed command shares. Afterwards, whether the body
    /// succeeded or threw (a refusal records events too), the audit chain's head is anchored in git.
    ///
    /// With `readOnly` (a preview) the ledger is only read: see ``withContext(_:needsEngine:readOnly:_:)``.
    /// A command that only `reads` (history, status, show, audit verify and trace) is read-only too
    /// while the embedded ledger does not exist: a fresh clone reads as an empty ledger, and neither
    /// `.tollgate/ledger.sqlite` nor anything else under `.tollgate/` is created by looking.
    static func run(_ options: GlobalOptions, needsEngine: Bool = true, readOnly: Bool = false, reads: Bool = false,
                    _ body: (Context) async throws -> Void) async throws {
        let composition = Composition(options: options)
        let pipeline = try composition.pipeline()
        try await Output.guarded(options.format) {
            let embedded = try composition.storeMode(pipeline) == .embedded
            let readOnly = readOnly || (reads && embedded && !FileManager.default.fileExists(atPath: composition.ledgerPath(pipeline)))
            try await composition.withContext(pipeline, needsEngine: needsEngine, readOnly: readOnly) { context in
                let before = try? await context.ledger.auditHead()
                do {
                    try await body(context)
                } catch {
                    await composition.anchorAuditHead(context, unless: before)
                    throw error
                }
                await composition.anchorAuditHead(context, unless: before)
            }
        }
    }

    /// Where the record lives: the embedded SQLite ledger beside the pipeline, or the team database.
    enum StoreMode: Equatable {
        case embedded
        /// The URL and the variable that held it (for messages; the URL itself is never printed).
        case team(url: String, variable: String)
    }

    /// Team mode when the database URL's variable is set (TOLLGATE_DATABASE_URL, or the one
    /// `store.url_env` names); a pipeline that names a variable explicitly must find it set.
    func storeMode(_ pipeline: Pipeline) throws -> StoreMode {
        let settings = pipeline.store
        let variable = settings?.urlEnv.value ?? StoreSettings.defaultURLEnv
        if let url = environment[variable], !url.isEmpty { return .team(url: url, variable: variable) }
        if let settings, settings.urlEnv.location != nil {
            throw KitError.step("tollgate.yaml's 'store.url_env' names \(variable) for the team database, but it is not set; set it to postgres://USER@HOST:PORT/DATABASE (the password in PGPASSWORD or the URL), or remove 'url_env' to use the embedded ledger")
        }
        return .embedded
    }

    /// Runs `body` with every adapter wired: on the embedded ledger, or on the team database with
    /// its connection pool running for exactly as long as the body runs.
    ///
    /// With `readOnly` the ledger is a `ReadOnlyLedger` over the one in use: the team database's
    /// schema is checked but never migrated (a role with SELECT only will do), and an embedded
    /// ledger that does not exist is not created (it reads as empty), nor is `.tollgate/` probed.
    func withContext<T>(_ pipeline: Pipeline, needsEngine: Bool, readOnly: Bool = false, _ body: (Context) async throws -> T) async throws -> T {
        guard case .team(let url, _) = try storeMode(pipeline) else {
            return try await body(try await context(pipeline, needsEngine: needsEngine, readOnly: readOnly))
        }
        return try await PostgresLedger.withLedger(url: url, effects: effects(), ci: ci(), readOnly: readOnly) { ledger in
            let artifacts = try await teamArtifacts(pipeline, ledger: ledger)
            return try await body(try await context(pipeline, needsEngine: needsEngine, ledger: ledger, artifacts: artifacts, readOnly: readOnly))
        }
    }

    /// The team database's artifacts, sealed: plan files hold variable values, secrets included,
    /// and in team mode they leave the machine, so a missing key stops the command unless the
    /// pipeline says `encrypt_artifacts: false` (then every command warns).
    func teamArtifacts(_ pipeline: Pipeline, ledger: PostgresLedger) async throws -> any ArtifactStore {
        if pipeline.store?.encryptArtifacts.value == false {
            Output.diagnostic("tollgate: warning: team mode with 'encrypt_artifacts: false': plan files, which hold variable values and secrets, are stored in the team database in the clear")
            return ledger.artifacts
        }
        let reference = pipeline.store?.keyReference ?? StoreSettings.defaultKeyReference
        guard let keys = try await keyring(pipeline) else {
            throw KitError.step("team mode needs an artifact key: plan files hold variable values, secrets included, and are stored in the team database; set \(Self.describe(reference)) to 32 random bytes in base64 ('tollgate ledger new-key' makes one), or set 'store.encrypt_artifacts: false' to store them in the clear")
        }
        return EncryptedArtifactStore(blobs: ledger.artifacts, keys: keys)
    }

    /// The artifact keys: the current one (`store.key`, else TOLLGATE_ARTIFACT_KEY) and the older
    /// ones still accepted for reading (TOLLGATE_ARTIFACT_OLD_KEYS); nil when no current key is set.
    func keyring(_ pipeline: Pipeline) async throws -> ArtifactKeyring? {
        let reference = pipeline.store?.keyReference ?? StoreSettings.defaultKeyReference
        let resolver = SecretResolver(processEnvironment: environment, shell: shell(), directory: pipeline.baseDirectory)
        guard let key = try await resolver.optionalValue(of: reference, what: "artifact key") else { return nil }
        return try ArtifactKeyring.parse(currentKey: key, oldKeys: environment["TOLLGATE_ARTIFACT_OLD_KEYS"], currentSource: reference.description)
    }

    /// Moves `refs/tollgate/audit-head` to the ledger's head when a command recorded events, so a
    /// later `audit verify` notices a cut tail. Never fails the command: a repository-less run or a
    /// git failure is one warning. It runs detached, so a Ctrl-C that ended the body does not stop it.
    func anchorAuditHead(_ context: Context, unless before: AuditHead?) async {
        let anchors = GitAuditAnchors(repository: context.pipeline.baseDirectory, environment: environment)
        let (ledger, now) = (context.ledger, context.effects.now)
        let outcome = await Task.detached { () async throws -> (head: AuditHead, advance: AuditAnchorAdvance)? in
            guard let head = try await ledger.auditHead(), head != before else { return nil }
            return (head, try await anchors.advance(to: head, at: now(), ledgerHash: { try await ledger.auditHash(seq: $0) }))
        }.result
        switch outcome {
        case .success(let (head, .kept(anchor))?) where anchor.head != head:
            Output.diagnostic("tollgate: warning: the audit anchor \(AuditAnchor.ref) was not moved to event \(head.seq): it names event \(anchor.seq), "
                + "and an anchor only moves forward; run 'tollgate audit verify' to see whether the log lost events")
        case .success(let (head, .diverged(anchor))?):
            Output.diagnostic("tollgate: warning: the audit anchor \(AuditAnchor.ref) was not moved to event \(head.seq): it names event \(anchor.seq), "
                + "which the ledger no longer holds with that hash; run 'tollgate audit verify' to see what the log lost")
        case .success: break
        case .failure(let error):
            Output.diagnostic("tollgate: warning: the audit anchor \(AuditAnchor.ref) could not be written: \(error); "
                + "the log's tail is not anchored outside the ledger until a later command writes it")
        }
    }

    /// The valid pipeline, or an exit after every diagnostic has been printed.
    func pipeline() throws -> Pipeline {
        let result = PipelineLoader.load(path: options.pipelinePath())
        if let pipeline = result.validPipeline {
            for warning in result.diagnostics { Output.diagnostic(warning.description) }
            return pipeline
        }
        if options.format == .json {
            Output.json(ValidationReport(file: options.pipelinePath(), diagnostics: result.diagnostics))
        } else {
            for diagnostic in result.diagnostics { Output.diagnostic(diagnostic.description) }
            // A file that is not there is not "not valid": the line above said what to do.
            if FileManager.default.fileExists(atPath: options.pipelinePath()) {
                Output.diagnostic("tollgate: error: the pipeline file is not valid; fix the errors above and run 'tollgate validate'")
            }
        }
        throw ExitCode(Output.Code.error)
    }

    func engineSettings(_ pipeline: Pipeline) -> EngineSettings {
        EngineSettings.resolve(environment: environment, pipelineMirror: pipeline.engine.providerMirror, baseDirectory: pipeline.baseDirectory)
    }

    func engine(_ pipeline: Pipeline) async throws -> TerraformEngine {
        let settings = engineSettings(pipeline)
        let locator = EngineLocator(environment: environment, versionCache: EngineVersionCache(settings: settings))
        let info = try await locator.locate(pipeline.engine, baseDirectory: pipeline.baseDirectory)
        return TerraformEngine(info: info, settings: settings, environment: environment,
                               runner: ProcessRunner(scratchDirectory: store(pipeline).root))
    }

    /// Locates the Rego engine a policy evaluation asks for; rego-cpp runs in a child tollgate.
    func policyEngine(_ pipeline: Pipeline) -> @Sendable (PolicyEngineChoice) throws -> any PolicyEngine {
        let locator = PolicyEngineLocator(environment: environment, baseDirectory: pipeline.baseDirectory,
                                          isolatingExecutable: Bundle.main.executablePath,
                                          runner: ProcessRunner(scratchDirectory: store(pipeline).root))
        return { choice in try locator.locate(choice) }
    }

    func store(_ pipeline: Pipeline) -> StoreLayout {
        StoreLayout.forRepository(pipeline.baseDirectory, environment: environment)
    }

    func shell() -> ProcessShell {
        ProcessShell(environment: environment)
    }

    /// Effects handed in by in-process composition (`Tollgate.launch(effects:)`, used by the test
    /// harness); nil in the shipped executable, whose clock no caller can set.
    @TaskLocal static var injectedEffects: Effects?

    /// The clock and ids: always the real ones, unless composed in process with others.
    func effects() -> Effects {
        Self.injectedEffects ?? .live
    }

    /// Who is acting: TOLLGATE_ACTOR, else the CI's actor, else git's user.email, else the login name.
    func actor(git: GitCLI) async -> String {
        for key in ["TOLLGATE_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_EMAIL", "BUILDKITE_BUILD_CREATOR_EMAIL", "CIRCLE_USERNAME"] {
            if let value = environment[key], !value.isEmpty { return value }
        }
        if let email = try? await git.userEmail() { return email }
        return environment["USER"] ?? "unknown"
    }

    /// The CI run this process is part of, from the variables GitHub Actions and GitLab CI set:
    /// written into every event, and its URL onto the lock an apply holds.
    func ci() -> CIContext? {
        CIContext.detect(environment)
    }

    func ledgerPath(_ pipeline: Pipeline) -> String {
        if let path = environment["TOLLGATE_DATABASE"], !path.isEmpty { return PathResolution.absolute(path) }
        return store(pipeline).ledgerPath
    }

    /// The artifact store: encrypted at rest (ChaCha20-Poly1305) when a key is configured
    /// (`store.key`, else TOLLGATE_ARTIFACT_KEY; older keys in TOLLGATE_ARTIFACT_OLD_KEYS), so plan
    /// files, which hold variable values, are never stored in the clear; plain files otherwise.
    func artifactStore(_ pipeline: Pipeline, layout: StoreLayout) async throws -> any ArtifactStore {
        guard pipeline.store?.encryptArtifacts.value ?? true, let keys = try await keyring(pipeline) else {
            return FileArtifactStore(root: layout.artifactsDirectory)
        }
        return EncryptedArtifactStore(blobs: FileBlobStore(root: layout.artifactsDirectory), keys: keys)
    }

    /// Where a key reference points, in words for a message.
    static func describe(_ reference: SecretReference) -> String {
        if case .environment(let name) = reference { return "the environment variable \(name)" }
        return "what 'store.key' names (\(reference.description))"
    }

    /// Every adapter wired into one context. The engine is located only when `needsEngine`.
    func context(_ pipeline: Pipeline, needsEngine: Bool = true, ledger team: (any Ledger)? = nil,
                 artifacts teamArtifacts: (any ArtifactStore)? = nil, readOnly: Bool = false) async throws -> Context {
        let effects = effects()
        let layout = store(pipeline)
        if !readOnly { try layout.checkWritable() }
        let run = ci()
        let ledger: any Ledger
        if readOnly {
            let path = ledgerPath(pipeline)
            var read: (any Ledger)? = team
            if read == nil, FileManager.default.fileExists(atPath: path) { read = try SQLiteLedger(path: path, effects: effects, ci: run) }
            ledger = ReadOnlyLedger(read)
        } else {
            ledger = try team ?? SQLiteLedger(path: ledgerPath(pipeline), effects: effects, ci: run)
        }
        let artifacts: any ArtifactStore
        if let teamArtifacts { artifacts = teamArtifacts } else { artifacts = try await artifactStore(pipeline, layout: layout) }
        let git = GitCLI(repository: pipeline.baseDirectory, environment: environment)
        let engine: any Engine = needsEngine ? try await self.engine(pipeline) : UnavailableEngine()
        var context = Context(
            pipeline: pipeline, engine: engine, ledger: ledger, artifacts: artifacts,
            git: git, signatures: SSHKeygenSignatures(environment: environment, scratchDirectory: layout.root, now: effects.now),
            shell: shell(), effects: effects, workRoot: layout.workDirectory, actor: await actor(git: git),
            host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier, processEnvironment: environment,
            parsePipeline: { [file = pipeline.file, base = pipeline.baseDirectory] data in
                let result = PipelineLoader.parse(String(decoding: data, as: UTF8.self), file: file, baseDirectory: base)
                guard let sealed = result.validPipeline else {
                    throw KitError.step("the pipeline file sealed in this release is not valid: "
                        + result.diagnostics.map(\.description).joined(separator: "; "))
                }
                return sealed
            })
        context.policyEngine = policyEngine(pipeline)
        context.ci = run
        context.runURL = run?.leaseURL
        context.notice = { Output.diagnostic($0) }
        if options.showsProgress(environment) { context.progress = { Output.diagnostic("tollgate: " + $0.line) } }
        if let seconds = environment["TOLLGATE_LEASE_SECONDS"].flatMap(Double.init), seconds >= 1 { context.lease = seconds }
        return context
    }
}

/// Stands in for the engine in commands that never run it (approve, status, audit).
struct UnavailableEngine: Engine {
    let info = EngineInfo(kind: "none", path: "", version: Version([0]))
    func fail() -> KitError { .step("this command does not run the engine") }
    func initialize(_ workspace: EngineWorkspace, backend: [(key: String, value: BackendValue)]) async throws { throw fail() }
    func plan(_ workspace: EngineWorkspace, planFile: String, varFiles: [String], mode: PlanMode) async throws -> Bool { throw fail() }
    func outputs(_ workspace: EngineWorkspace) async throws -> [String: EngineOutput] { throw fail() }
    func showJSON(_ workspace: EngineWorkspace, planFile: String) async throws -> Data { throw fail() }
    func apply(_ workspace: EngineWorkspace, planFile: String) async throws { throw fail() }
    func formatCheck(_ workspace: EngineWorkspace) async throws -> [String] { throw fail() }
    func validate(_ workspace: EngineWorkspace) async throws -> EngineValidation { throw fail() }
    func pullState(_ workspace: EngineWorkspace) async throws -> StateIdentity { throw fail() }
    func priorState(ofPlan planFile: Data) throws -> StateIdentity { throw fail() }
}

/// The result of validating a pipeline file, as JSON.
struct ValidationReport: Encodable {
    var file: String
    var valid: Bool
    var diagnostics: [Diagnostic]

    init(file: String, diagnostics: [Diagnostic]) {
        self.file = file
        self.valid = !diagnostics.hasErrors
        self.diagnostics = diagnostics
    }
}
