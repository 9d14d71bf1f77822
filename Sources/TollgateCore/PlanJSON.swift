import Foundation

/// The engine's machine-readable plan (`terraform show -json PLANFILE`), decoded.
///
/// Follows Terraform's documented JSON output format. Only the fields tollgate reads are modelled;
/// everything else is tolerated, so newer engines that add fields still decode.
public struct PlanJSON: Sendable, Codable, Equatable {
    public var formatVersion: String
    public var terraformVersion: String?
    public var variables: [String: PlanVariable]?
    public var resourceChanges: [ResourceChange]?
    public var resourceDrift: [ResourceChange]?
    public var outputChanges: [String: Change]?
    public var priorState: StateSnapshot?
    public var configuration: Configuration?
    /// Present from Terraform 1.2 on; when true the plan cannot be applied.
    public var errored: Bool?

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case terraformVersion = "terraform_version"
        case variables
        case resourceChanges = "resource_changes"
        case resourceDrift = "resource_drift"
        case outputChanges = "output_changes"
        case priorState = "prior_state"
        case configuration
        case errored
    }

    /// Decodes plan JSON bytes as written by the engine.
    public static func decode(_ data: Data) throws -> PlanJSON {
        try StrictJSON.check(data)
        return try JSONDecoder().decode(PlanJSON.self, from: data)
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

    enum CodingKeys: String, CodingKey {
        case actions, before, after
        case afterUnknown = "after_unknown"
        case beforeSensitive = "before_sensitive"
        case afterSensitive = "after_sensitive"
        case replacePaths = "replace_paths"
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

    /// The single verb for a list of actions: create and delete together are a replace.
    public init(actions: [Action]) {
        let set = Set(actions)
        if set.contains(.create) && set.contains(.delete) { self = .replace }
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
