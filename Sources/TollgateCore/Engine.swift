import Foundation

/// The port to an infrastructure-as-code engine (Terraform or OpenTofu today).
///
/// Services drive a stack through these steps only; the adapter owns process handling, flags and
/// the engine's CLI configuration.
/// The engine refused a saved plan because the state moved since it was made: its own stale-plan
/// guard, which tollgate keeps and reports in plain words.
public struct StalePlanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The engine's own words, for the record.
    public var engineMessage: String

    public init(engineMessage: String) { self.engineMessage = engineMessage }

    public var description: String { "the engine refused the saved plan as stale: \(engineMessage)" }
}

public protocol Engine: Sendable {
    var info: EngineInfo { get }

    /// `init` with the backend filled from the given settings.
    func initialize(_ workspace: EngineWorkspace, backend: [(key: String, value: BackendValue)]) async throws
    /// `plan -out PLANFILE` (with `-refresh-only` or `-destroy` for those modes); true when the plan has changes.
    func plan(_ workspace: EngineWorkspace, planFile: String, varFiles: [String], mode: PlanMode) async throws -> Bool
    /// `show -json PLANFILE`: the plan as JSON bytes.
    func showJSON(_ workspace: EngineWorkspace, planFile: String) async throws -> Data
    /// `apply PLANFILE`: applies exactly the saved plan.
    func apply(_ workspace: EngineWorkspace, planFile: String) async throws
    /// `fmt -check`: the files that are not formatted canonically.
    func formatCheck(_ workspace: EngineWorkspace) async throws -> [String]
    /// `validate -json`.
    func validate(_ workspace: EngineWorkspace) async throws -> EngineValidation
    /// `state pull`: the backend's current state, read after `initialize`.
    func pullState(_ workspace: EngineWorkspace) async throws -> StateIdentity
    /// `output -json`, after `initialize`: the root module's outputs in the backend's state.
    func outputs(_ workspace: EngineWorkspace) async throws -> [String: EngineOutput]
    /// The state a saved plan was made against (engines keep it inside the plan file).
    func priorState(ofPlan planFile: Data) throws -> StateIdentity
}

/// Which state a plan or a backend holds: its lineage (fixed when the state is created) and serial
/// (bumped on every write). An empty backend has an empty lineage and serial 0.
public struct StateIdentity: Sendable, Equatable, Codable {
    public var lineage: String
    public var serial: Int

    public init(lineage: String, serial: Int) {
        self.lineage = lineage
        self.serial = serial
    }

    public static let empty = StateIdentity(lineage: "", serial: 0)
    public var isEmpty: Bool { lineage.isEmpty }

    /// Reads `lineage` and `serial` from state JSON; empty input is the empty state.
    public static func parse(_ data: Data) throws -> StateIdentity {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .empty }
        struct State: Decodable {
            var lineage: String?
            var serial: Int?
        }
        let state = try JSONDecoder().decode(State.self, from: data)
        return StateIdentity(lineage: state.lineage ?? "", serial: state.serial ?? 0)
    }
}

/// Which engine binary runs, and its version.
public struct EngineInfo: Sendable, Equatable, Codable {
    public var kind: String
    public var path: String
    public var version: Version

    public init(kind: String, path: String, version: Version) {
        self.kind = kind
        self.path = path
        self.version = version
    }
}

extension Version: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let version = Version(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a version: \(text)"))
        }
        self = version
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Where one engine run happens: the root module's directory, its own data dir, and the
/// environment variables (such as `TF_VAR_` secrets) that reach only this run.
public struct EngineWorkspace: Sendable {
    public var directory: String
    public var dataDirectory: String
    public var variables: [String: String]

    public init(directory: String, dataDirectory: String, variables: [String: String] = [:]) {
        self.directory = directory
        self.dataDirectory = dataDirectory
        self.variables = variables
    }
}

/// The result of `validate -json`.
public struct EngineValidation: Sendable, Equatable, Codable {
    public var valid: Bool
    public var diagnostics: [Diagnostic]

    public init(valid: Bool, diagnostics: [Diagnostic]) {
        self.valid = valid
        self.diagnostics = diagnostics
    }
}

extension Engine {
    /// A normal plan: `plan -out PLANFILE`.
    public func plan(_ workspace: EngineWorkspace, planFile: String, varFiles: [String]) async throws -> Bool {
        try await plan(workspace, planFile: planFile, varFiles: varFiles, mode: .normal)
    }
}

/// What a plan is for.
public enum PlanMode: Sendable, Equatable {
    case normal
    /// Only read the real world into the state: drift, never a change.
    case refreshOnly
    /// Destroy everything in the state.
    case destroy
}

/// One root-module output of a state.
public struct EngineOutput: Sendable, Equatable, Decodable {
    public var value: JSONValue
    public var sensitive: Bool

    public init(value: JSONValue, sensitive: Bool) {
        self.value = value
        self.sensitive = sensitive
    }
}
