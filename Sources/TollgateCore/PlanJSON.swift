import Foundation

/// The engine's machine-readable plan (`terraform show -json PLANFILE`), decoded.
///
/// Follows Terraform's documented JSON output format. Only the fields tollgate reads are modelled;
/// everything else is tolerated, so newer engines that add fields still decode. A document that is
/// not a plan (a state, `null`, `{"foo": 1}`, a format of another major version) is refused with a
/// `PlanInputError` that says what is missing, never read as an empty plan.
public struct PlanJSON: Sendable, Decodable, Equatable {
    public var formatVersion: String
    public var terraformVersion: String?
    public var variables: [String: PlanVariable]?
    public var resourceChanges: [ResourceChange]?
    public var resourceDrift: [ResourceChange]?
    public var outputChanges: [String: Change]?
    public var priorState: StateSnapshot?
    public var configuration: Configuration?
    /// Present from Terraform 1.5 on; when true the engine reported errors while planning.
    public var errored: Bool?
    /// Present from Terraform 1.8 on; false for a plan with nothing to apply, or one that failed.
    public var applyable: Bool?
    /// Present from Terraform 1.8 on; false when the plan leaves changes out (`-target`, deferred changes).
    public var complete: Bool?
    /// Check blocks, pre/postconditions and variable validations, with their status.
    public var checks: [CheckStatus]?
    /// Changes the engine deferred to a later plan, each with its reason.
    public var deferredChanges: [DeferredChange]?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case terraformVersion = "terraform_version"
        case variables
        case resourceChanges = "resource_changes"
        case resourceDrift = "resource_drift"
        case outputChanges = "output_changes"
        case priorState = "prior_state"
        case configuration
        case errored, applyable, complete, checks
        case deferredChanges = "deferred_changes"
        // Only their presence is read: every plan has `planned_values`; a state has `values` (shown)
        // or `lineage` (a .tfstate file) instead.
        case plannedValues = "planned_values"
        case values, lineage
    }

    public init(from decoder: any Decoder) throws {
        let container: KeyedDecodingContainer<CodingKeys>
        do {
            container = try decoder.container(keyedBy: CodingKeys.self)
        } catch DecodingError.typeMismatch, DecodingError.valueNotFound {
            throw PlanInputError.notAnObject
        }
        try PlanInputError.checkShape(formatVersion: try? container.decodeIfPresent(String.self, forKey: .formatVersion),
                                      members: Set(container.allKeys.map(\.stringValue)))
        formatVersion = try container.decode(String.self, forKey: .formatVersion)
        terraformVersion = try container.decodeIfPresent(String.self, forKey: .terraformVersion)
        variables = try container.decodeIfPresent([String: PlanVariable].self, forKey: .variables)
        resourceChanges = try container.decodeIfPresent([ResourceChange].self, forKey: .resourceChanges)
        resourceDrift = try container.decodeIfPresent([ResourceChange].self, forKey: .resourceDrift)
        outputChanges = try container.decodeIfPresent([String: Change].self, forKey: .outputChanges)
        priorState = try container.decodeIfPresent(StateSnapshot.self, forKey: .priorState)
        configuration = try container.decodeIfPresent(Configuration.self, forKey: .configuration)
        errored = try container.decodeIfPresent(Bool.self, forKey: .errored)
        applyable = try container.decodeIfPresent(Bool.self, forKey: .applyable)
        complete = try container.decodeIfPresent(Bool.self, forKey: .complete)
        checks = try container.decodeIfPresent([CheckStatus].self, forKey: .checks)
        deferredChanges = try container.decodeIfPresent([DeferredChange].self, forKey: .deferredChanges)
    }

    /// Decodes plan JSON bytes as written by the engine.
    public static func decode(_ data: Data) throws -> PlanJSON {
        try StrictJSON.check(data)
        do {
            return try JSONDecoder().decode(PlanJSON.self, from: data)
        } catch let error as DecodingError {
            throw PlanInputError.malformed(PlanInputError.describe(error))
        }
    }
}

/// Why a document is not plan JSON that tollgate can read. The text names what is missing or wrong
/// and how to write a plan; callers put the file's name in front.
public enum PlanInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The top level is not an object (`null`, an array, a string, a number).
    case notAnObject
    /// A state (`terraform show -json` without a plan file, or a `.tfstate`), not a plan.
    case state
    /// An object without the members every plan has.
    case missing([String])
    /// A format version whose major version tollgate does not read.
    case unsupportedFormat(String)
    /// A member of the plan that is not what the format says (`resource_changes[2].change.actions`).
    case malformed(String)

    static let howToWrite = "write the plan with 'terraform plan -out=PLANFILE' and 'terraform show -json PLANFILE > plan.json'"

    public var description: String {
        switch self {
        case .notAnObject:
            "is not a plan: its top level is not a JSON object, where 'terraform show -json PLANFILE' writes one; \(Self.howToWrite)"
        case .state:
            "is a state, not a plan: it has no 'planned_values' and it has the 'values' of 'terraform show -json' without a plan file, or the 'lineage' of a .tfstate file; \(Self.howToWrite)"
        case .missing(let members):
            "is not a plan: it has no \(members.map { "'\($0)'" }.joined(separator: ", ")), which every 'terraform show -json PLANFILE' output has; \(Self.howToWrite)"
        case .unsupportedFormat(let version):
            "has format_version '\(version)'; tollgate reads the plan JSON formats 0.x and 1.x, so show the plan with a Terraform or OpenTofu release that writes one of those"
        case .malformed(let detail):
            "is not plan JSON as 'terraform show -json' writes it: \(detail); \(Self.howToWrite)"
        }
    }

    /// The checks both plan readers make of the top-level members, once they have seen them all.
    static func checkShape(formatVersion: String?, members: Set<String>) throws(PlanInputError) {
        if !members.contains("planned_values"), members.contains("values") || members.contains("lineage") { throw .state }
        let missing = ["format_version", "planned_values", "configuration"].filter { !members.contains($0) }
        if !missing.isEmpty { throw .missing(missing) }
        guard let formatVersion else { throw .malformed("'format_version' is not a string") }
        let major = formatVersion.prefix { $0 != "." }
        guard major == "0" || major == "1" else { throw .unsupportedFormat(formatVersion) }
    }

    /// A decoding error as the path of the member and what is wrong with it.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            guard !codingPath.isEmpty else { return "the document" }
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return "'\(text)'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath)) has no '\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) is not \(Self.noun(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null where \(Self.noun(type)) belongs"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? context.debugDescription : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func noun(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Double.Type, is Int.Type: "a number"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}

/// What RFC 8259 forbids and Foundation's `JSONDecoder` lets through: bytes that are not UTF-8,
/// and a comma before `]` or `}`. Checked first, so the decoder refuses exactly what the plan
/// scanner refuses, and a damaged file is never read as a plan.
public enum StrictJSON {
    public static func check(_ data: Data) throws {
        guard String(validating: data, as: UTF8.self) != nil else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the JSON is not valid UTF-8"))
        }
        var inString = false
        var escaped = false
        var comma: Int?
        for (offset, byte) in data.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                if let comma {
                    throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the JSON is not valid at byte \(comma): a comma before '\(Character(UnicodeScalar(byte)))'"))
                }
            case UInt8(ascii: ","):
                comma = offset
                continue
            case UInt8(ascii: "\""):
                inString = true
            default:
                break
            }
            comma = nil
        }
    }
}

public struct PlanVariable: Sendable, Codable, Equatable {
    public var value: JSONValue?
}

/// One resource instance's planned (or drifted) change.
public struct ResourceChange: Sendable, Codable, Equatable {
    public var address: String
    public var previousAddress: String?
    public var moduleAddress: String?
    public var mode: String
    public var type: String
    public var name: String
    public var index: JSONValue?
    public var providerName: String?
    public var change: Change
    /// Why the engine chose this action, such as `replace_because_cannot_update`.
    public var actionReason: String?

    enum CodingKeys: String, CodingKey {
        case address
        case previousAddress = "previous_address"
        case moduleAddress = "module_address"
        case mode, type, name, index
        case providerName = "provider_name"
        case change
        case actionReason = "action_reason"
    }
}

/// One entry of the plan's `checks`: a check block, a resource's conditions or a variable's
/// validations, with the status of each instance.
public struct CheckStatus: Sendable, Codable, Equatable {
    public struct Address: Sendable, Codable, Equatable {
        public var toDisplay: String

        enum CodingKeys: String, CodingKey {
            case toDisplay = "to_display"
        }
    }

    public struct Instance: Sendable, Codable, Equatable {
        public var address: Address
        public var status: String
        public var problems: [Problem]?
    }

    public struct Problem: Sendable, Codable, Equatable {
        public var message: String
    }

    public var address: Address
    /// `pass`, `fail`, `error` or `unknown` (not known until apply).
    public var status: String
    public var instances: [Instance]?
}

/// A change the engine deferred to a later plan (`deferred_changes`).
public struct DeferredChange: Sendable, Codable, Equatable {
    public struct Subject: Sendable, Codable, Equatable {
        public var address: String
    }

    /// Why, such as `instance_count_unknown` or `provider_config_unknown`.
    public var reason: String?
    public var resourceChange: Subject?

    enum CodingKeys: String, CodingKey {
        case reason
        case resourceChange = "resource_change"
    }
}

/// The import a change carries out (`change.importing`).
public struct Importing: Sendable, Codable, Equatable {
    /// The id the resource is imported by; absent for an import by identity.
    public var id: String?
}

/// A before/after pair with the engine's unknown and sensitivity markers.
public struct Change: Sendable, Codable, Equatable {
    public var actions: [Action]
    public var before: JSONValue?
    public var after: JSONValue?
    /// Mirrors `after`: `true` where the value is only known after apply.
    public var afterUnknown: JSONValue?
    /// Mirrors `before`: `true` where the value is sensitive.
    public var beforeSensitive: JSONValue?
    /// Mirrors `after`: `true` where the value is sensitive.
    public var afterSensitive: JSONValue?
    /// Attribute paths that force replacement.
    public var replacePaths: JSONValue?
    /// Present when the change imports an existing object.
    public var importing: Importing?

    enum CodingKeys: String, CodingKey {
        case actions, before, after
        case afterUnknown = "after_unknown"
        case beforeSensitive = "before_sensitive"
        case afterSensitive = "after_sensitive"
        case replacePaths = "replace_paths"
        case importing
    }

    /// The single verb a reviewer reads: create, update, replace, delete, read or no-op.
    public var kind: ChangeKind { ChangeKind(actions: actions) }
}

/// An action in a change's `actions` list; unknown future actions are kept as text.
public enum Action: Sendable, Hashable, Codable, CustomStringConvertible {
    case noOp, create, read, update, delete, forget
    case other(String)

    public init(from decoder: any Decoder) throws {
        self.init(text: try decoder.singleValueContainer().decode(String.self))
    }

    /// The action an engine wrote as text, such as `no-op` or `create`.
    public init(text: String) {
        switch text {
        case "no-op": self = .noOp
        case "create": self = .create
        case "read": self = .read
        case "update": self = .update
        case "delete": self = .delete
        case "forget": self = .forget
        default: self = .other(text)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        switch self {
        case .noOp: "no-op"
        case .create: "create"
        case .read: "read"
        case .update: "update"
        case .delete: "delete"
        case .forget: "forget"
        case .other(let text): text
        }
    }
}

public enum ChangeKind: String, Sendable, Codable, CaseIterable {
    case create, update, replace, delete, read, forget
    case noOp = "no-op"
    /// An action tollgate does not know (a newer engine's): shown as it is, never taken for a no-op.
    case other

    /// The single verb for a list of actions: create and delete together are a replace.
    public init(actions: [Action]) {
        let set = Set(actions)
        if set.contains(where: { if case .other = $0 { true } else { false } }) { self = .other }
        else if set.contains(.create) && set.contains(.delete) { self = .replace }
        else if set.contains(.create) { self = .create }
        else if set.contains(.delete) { self = .delete }
        else if set.contains(.update) { self = .update }
        else if set.contains(.read) { self = .read }
        else if set.contains(.forget) { self = .forget }
        else { self = .noOp }
    }
}

/// The state the plan was made against (`prior_state`), as values.
public struct StateSnapshot: Sendable, Codable, Equatable {
    public var formatVersion: String?
    public var terraformVersion: String?
    public var values: StateValues?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case terraformVersion = "terraform_version"
        case values
    }
}

public struct StateValues: Sendable, Codable, Equatable {
    public var outputs: [String: StateOutput]?
    public var rootModule: StateModule?

    enum CodingKeys: String, CodingKey {
        case outputs
        case rootModule = "root_module"
    }
}

public struct StateOutput: Sendable, Codable, Equatable {
    public var sensitive: Bool?
    public var value: JSONValue?
}

public struct StateModule: Sendable, Codable, Equatable {
    public var address: String?
    public var resources: [StateResource]?
    public var childModules: [StateModule]?

    enum CodingKeys: String, CodingKey {
        case address, resources
        case childModules = "child_modules"
    }

    /// Every resource in this module and its descendants.
    public var allResources: [StateResource] {
        (resources ?? []) + (childModules ?? []).flatMap(\.allResources)
    }
}

public struct StateResource: Sendable, Codable, Equatable {
    public var address: String
    public var mode: String
    public var type: String
    public var name: String
    public var providerName: String?
    public var values: JSONValue?
    public var sensitiveValues: JSONValue?

    enum CodingKeys: String, CodingKey {
        case address, mode, type, name
        case providerName = "provider_name"
        case values
        case sensitiveValues = "sensitive_values"
    }
}

/// The configuration snapshot: enough to see what each expression references.
public struct Configuration: Sendable, Codable, Equatable {
    public var rootModule: ConfigModule?

    enum CodingKeys: String, CodingKey {
        case rootModule = "root_module"
    }
}

public struct ConfigModule: Sendable, Codable, Equatable {
    public var outputs: [String: ConfigOutput]?
    public var resources: [ConfigResource]?
    public var moduleCalls: [String: ModuleCall]?
    public var variables: [String: ConfigVariable]?

    enum CodingKeys: String, CodingKey {
        case outputs, resources, variables
        case moduleCalls = "module_calls"
    }
}

public struct ConfigResource: Sendable, Codable, Equatable {
    public var address: String
    public var mode: String
    public var type: String
    public var name: String
    public var providerConfigKey: String?
    public var expressions: [String: JSONValue]?
    public var countExpression: JSONValue?
    public var forEachExpression: JSONValue?
    public var dependsOn: [String]?

    enum CodingKeys: String, CodingKey {
        case address, mode, type, name, expressions
        case providerConfigKey = "provider_config_key"
        case countExpression = "count_expression"
        case forEachExpression = "for_each_expression"
        case dependsOn = "depends_on"
    }

    /// Every address any of this resource's expressions refers to, in first-seen order.
    public var references: [String] {
        var all = (expressions ?? [:]).keys.sorted().flatMap { ExpressionReferences.collect(expressions![$0]!) }
        all += [countExpression, forEachExpression].compactMap { $0 }.flatMap(ExpressionReferences.collect)
        var seen: Set<String> = []
        return all.filter { seen.insert($0).inserted }
    }
}

public struct ModuleCall: Sendable, Codable, Equatable {
    public var source: String?
    public var expressions: [String: JSONValue]?
    public var module: ConfigModule?
    public var versionConstraint: String?

    enum CodingKeys: String, CodingKey {
        case source, expressions, module
        case versionConstraint = "version_constraint"
    }
}

public struct ConfigOutput: Sendable, Codable, Equatable {
    public var expression: JSONValue?
    public var sensitive: Bool?
}

public struct ConfigVariable: Sendable, Codable, Equatable {
    public var `default`: JSONValue?
    public var description: String?
    public var sensitive: Bool?
}

enum ExpressionReferences {
    /// Walks an expression (or a nested block of expressions) and collects its `references`.
    static func collect(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let members):
            var found: [String] = []
            if case .array(let references)? = members["references"] {
                found += references.compactMap(\.stringValue)
            }
            for key in members.keys.sorted() where key != "references" && key != "constant_value" {
                found += collect(members[key]!)
            }
            return found
        case .array(let items):
            return items.flatMap(collect)
        default:
            return []
        }
    }
}
