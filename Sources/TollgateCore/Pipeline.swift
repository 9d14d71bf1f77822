/// The pipeline file `tollgate.yaml`: environments in promotion order, stacks, gates and checks.
///
/// This is the typed model; `TollgateConfig` builds it from YAML and `PipelineValidator` checks the
/// rules that span several entries (cycles, overlapping backends, shared accounts).
public struct Pipeline: Sendable, Equatable {
    /// The path of the pipeline file as given, used in diagnostics.
    public var file: String
    /// The directory that relative paths in the file are resolved against.
    public var baseDirectory: String
    public var engine: EngineSpec
    public var mainBranch: String
    public var stacks: [Stack]
    /// Environments in promotion order: a release reaches `environments[n]` only after `n-1`.
    public var environments: [Environment]
    /// Path of the `allowed_signers` file that maps approvers' keys to principals.
    public var approversFile: Located<String>?
    public var policies: PolicySettings?
    public var lint: LintSettings = LintSettings()
    /// Resource types the destroy guard treats as stateful, on top of `StatefulCatalog.types`.
    public var statefulTypes: [String] = []
    /// Throw-away environments for integration tests (`tollgate ephemeral`, the `ephemeral` check).
    public var ephemeral: EphemeralSettings?
    /// Team mode's database and artifact encryption (`store:`); nil when the file has no such block.
    public var store: StoreSettings?

    public init(
        file: String,
        baseDirectory: String,
        engine: EngineSpec = EngineSpec(),
        mainBranch: String = "main",
        stacks: [Stack] = [],
        environments: [Environment] = [],
        approversFile: Located<String>? = nil,
        policies: PolicySettings? = nil
    ) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.engine = engine
        self.mainBranch = mainBranch
        self.stacks = stacks
        self.environments = environments
        self.approversFile = approversFile
        self.policies = policies
    }

    public func environment(named name: String) -> Environment? {
        environments.first { $0.name.value == name }
    }

    public func stack(named name: String) -> Stack? {
        stacks.first { $0.name.value == name }
    }

    /// The environment a release must have reached before `name`, or nil for the first one.
    public func environment(before name: String) -> Environment? {
        guard let index = environments.firstIndex(where: { $0.name.value == name }), index > 0 else { return nil }
        return environments[index - 1]
    }
}

/// Which engine runs the stacks and which versions are acceptable.
public struct EngineSpec: Sendable, Equatable {
    public enum Binary: String, Sendable, CaseIterable {
        case terraform
        case tofu
    }

    public var binary: Binary
    public var version: Located<VersionConstraint>
    /// An explicit path to the engine binary; otherwise it is looked up on PATH.
    public var path: String?
    /// A filesystem provider mirror to install providers from, instead of the registry.
    public var providerMirror: String?

    public init(
        binary: Binary = .terraform,
        version: Located<VersionConstraint> = Located(.any),
        path: String? = nil,
        providerMirror: String? = nil
    ) {
        self.binary = binary
        self.version = version
        self.path = path
        self.providerMirror = providerMirror
    }
}

/// One root module under `stacks/NAME`.
public struct Stack: Sendable, Equatable {
    public var name: Located<String>
    /// Relative to the pipeline file's directory; defaults to `stacks/NAME`.
    public var path: String
    public var dependsOn: [Located<String>]

    public init(name: Located<String>, path: String? = nil, dependsOn: [Located<String>] = []) {
        self.name = name
        self.path = path ?? "stacks/\(name.value)"
        self.dependsOn = dependsOn
    }
}

/// One environment: where it deploys, how to prove it, and what a change must pass to land there.
public struct Environment: Sendable, Equatable {
    public var name: Located<String>
    /// The account (or project, or subscription) this environment deploys into.
    public var account: Located<String>
    /// A shell command that prints the account the current credentials belong to.
    public var identity: Located<String>
    public var backend: Backend
    public var gate: Located<Gate>
    public var checks: [Located<Check>]
    public var secrets: [Secret]
    /// Every commit a release brings into this environment must carry an SSH signature that the
    /// signers file in force verifies; the release's authors are then the signatures' principals.
    public var requireSignedCommits: Bool

    public init(
        name: Located<String>,
        account: Located<String>,
        identity: Located<String>,
        backend: Backend,
        gate: Located<Gate> = Located(.auto),
        checks: [Located<Check>] = [],
        secrets: [Secret] = [],
        requireSignedCommits: Bool = false
    ) {
        self.requireSignedCommits = requireSignedCommits
        self.name = name
        self.account = account
        self.identity = identity
        self.backend = backend
        self.gate = gate
        self.checks = checks
        self.secrets = secrets
    }
}

/// What a change must pass before it is applied to an environment.
public enum Gate: Sendable, Equatable {
    /// Plan and apply with no human (dev).
    case auto
    /// The release commit must be reachable from the main branch.
    case onMerge
    /// Distinct signed approvals from the listed principals.
    case approval(ApprovalGate)

    public var kind: String {
        switch self {
        case .auto: "auto"
        case .onMerge: "on-merge"
        case .approval: "approval"
        }
    }
}

public struct ApprovalGate: Sendable, Equatable {
    /// How many distinct approvers must sign.
    public var required: Int
    /// Principals (as named in `allowed_signers`) whose approvals count.
    public var approvers: [String]
    /// A plan older than this cannot be applied, however many approvals it has.
    public var maxPlanAge: PlanAge

    public init(required: Int, approvers: [String], maxPlanAge: PlanAge) {
        self.required = required
        self.approvers = approvers
        self.maxPlanAge = maxPlanAge
    }
}

/// A pre-apply validation that an environment runs on every plan.
public enum Check: String, Sendable, Equatable, Codable, CaseIterable {
    case fmt
    case validate
    case lint
    case policy
    case destructive
    case drift
    case ephemeral
}

/// A named secret and where its value comes from; the value itself is never in the pipeline file.
public struct Secret: Sendable, Equatable {
    public var name: String
    public var reference: SecretReference
    public var location: SourceLocation?

    public init(name: String, reference: SecretReference, location: SourceLocation? = nil) {
        self.name = name
        self.reference = reference
        self.location = location
    }
}

/// Where a secret's value is read at plan and apply time.
public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    /// An environment variable of the tollgate process.
    case environment(String)
    /// A file's contents, trailing newline removed.
    case file(String)
    /// A shell command's standard output, trailing newline removed.
    case command(String)

    /// Parses `env:NAME`, `file:PATH` or `cmd:COMMAND`; nil for anything else, such as a literal value.
    public init?(parsing text: String) {
        func rest(after prefix: String) -> String? {
            guard text.hasPrefix(prefix) else { return nil }
            let value = String(text.dropFirst(prefix.count)).trimmingWhitespace()
            return value.isEmpty ? nil : value
        }
        if let name = rest(after: "env:") {
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
            self = .environment(name)
        } else if let path = rest(after: "file:") {
            self = .file(path)
        } else if let command = rest(after: "cmd:") {
            self = .command(command)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .environment(let name): "env:\(name)"
        case .file(let path): "file:\(path)"
        case .command(let command): "cmd:\(command)"
        }
    }
}

/// Settings of `tollgate lint`.
public struct LintSettings: Sendable, Equatable {
    /// Inputs that carry the environment name; nil means the built-in list.
    public var envInputs: [String]?
    /// Variables that may legitimately be set for only some environments.
    public var expectedDifferences: [String]

    public init(envInputs: [String]? = nil, expectedDifferences: [String] = []) {
        self.envInputs = envInputs
        self.expectedDifferences = expectedDifferences
    }
}

/// Throw-away copies of an environment: where their state goes, how long they may live, and the
/// tests run against them.
public struct EphemeralSettings: Sendable, Equatable {
    /// A backend whose settings contain `{ephemeral}` (the copy's name), so no copy can touch a real
    /// environment's state; `{env}` (the environment copied) and `{stack}` are substituted too.
    public var backend: Backend
    /// A copy older than this is destroyed by `tollgate ephemeral gc`.
    public var ttl: PlanAge
    /// Commands run by `tollgate ephemeral test`, with stack outputs as `TOLLGATE_OUTPUT_<STACK>_<NAME>`.
    public var tests: [EphemeralTest]
    /// The environment the `ephemeral` check copies; nil means the environment that requires it.
    public var like: String?

    public init(backend: Backend, ttl: PlanAge = PlanAge(seconds: 4 * 3600), tests: [EphemeralTest] = [], like: String? = nil) {
        self.backend = backend
        self.ttl = ttl
        self.tests = tests
        self.like = like
    }

    public static let placeholders = ["ephemeral", "env", "stack"]
}

/// One integration test: a shell command run in the repository against a live ephemeral copy.
public struct EphemeralTest: Sendable, Equatable {
    public var name: String
    public var run: String

    public init(name: String, run: String) {
        self.name = name
        self.run = run
    }
}

/// Where policies live, which Rego namespaces are evaluated and by which engine.
public struct PolicySettings: Sendable, Equatable {
    public var path: String
    public var namespaces: [String]
    public var engine: PolicyEngineChoice

    public init(path: String = "policies", namespaces: [String] = ["main"], engine: PolicyEngineChoice = .auto) {
        self.path = path
        self.namespaces = namespaces
        self.engine = engine
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
