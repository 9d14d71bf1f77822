/// Masks what the engine marks sensitive in plan JSON, which Terraform writes in the clear.
///
/// The plan JSON tollgate stores for display, and every view made from it, go through here first:
/// - `resource_changes` and `resource_drift`: `before` by `before_sensitive`, `after` by `after_sensitive`;
/// - `output_changes`: the same markers, which outputs set to `true` when declared sensitive;
/// - `planned_values` and `prior_state`: each resource's `values` by its `sensitive_values`, and
///   outputs with `sensitive: true`;
/// - `variables`: the values of variables the configuration declares sensitive, and their defaults in
///   `configuration`.
///
/// A masked value becomes the string `(sensitive)`; null stays null.
public enum SensitiveMask {
    public static let text = "(sensitive)"

    public static func plan(_ plan: JSONValue) -> JSONValue {
        guard case .object(var members) = plan else { return plan }
        for key in ["resource_changes", "resource_drift"] {
            if case .array(let resources)? = members[key] { members[key] = .array(resources.map(resourceChange)) }
        }
        if case .object(let outputs)? = members["output_changes"] {
            members["output_changes"] = .object(outputs.mapValues(change))
        }
        if let planned = members["planned_values"] { members["planned_values"] = values(planned) }
        if case .object(var prior)? = members["prior_state"], let state = prior["values"] {
            prior["values"] = values(state)
            members["prior_state"] = .object(prior)
        }
        let secret = sensitiveVariables(members["configuration"])
        if !secret.isEmpty, case .object(var variables)? = members["variables"] {
            for name in secret where variables[name] != nil {
                variables[name] = masked(variables[name]!, by: .object(["value": .bool(true)]))
            }
            members["variables"] = .object(variables)
        }
        if !secret.isEmpty, let configuration = members["configuration"] {
            members["configuration"] = maskingDefaults(configuration, of: secret)
        }
        return .object(members)
    }

    /// The texts `plan` replaced in `original`: every string (and number) under a masked value, so
    /// messages made from the original, such as a policy's deny message, can be masked as well.
    public static func hiddenValues(_ original: JSONValue, masked: JSONValue) -> Set<String> {
        var hidden: Set<String> = []
        var pending: [(JSONValue, JSONValue)] = [(original, masked)]
        while let (before, after) = pending.popLast() {
            switch (before, after) {
            case (.object(let old), .object(let new)):
                pending += old.compactMap { key, value in new[key].map { (value, $0) } }
            case (.array(let old), .array(let new)):
                pending += zip(old, new).map { ($0, $1) }
            case (_, .string(let value)) where value == text && before != after:
                var leaves = [before]
                while let leaf = leaves.popLast() {
                    switch leaf {
                    case .string(let value): hidden.insert(value)
                    case .number: hidden.insert(CanonicalJSON.encode(leaf))
                    case .array(let items): leaves += items
                    case .object(let members): leaves += members.values
                    case .null, .bool: break
                    }
                }
            default: break
            }
        }
        return hidden
    }

    /// The value with every part its marker marks `true` replaced.
    public static func masked(_ value: JSONValue, by marker: JSONValue?) -> JSONValue {
        guard let marker else { return value }
        switch (value, marker) {
        case (.null, _): return .null
        case (_, .bool(true)): return .string(text)
        case (.object(let members), .object(let marks)):
            return .object(Dictionary(uniqueKeysWithValues: members.map { ($0.key, masked($0.value, by: marks[$0.key])) }))
        case (.array(let items), .array(let marks)):
            return .array(items.enumerated().map { index, item in masked(item, by: index < marks.count ? marks[index] : nil) })
        case (_, .object), (_, .array):
            // A marker shaped unlike its value still marks something in it: hide the whole value.
            return marker.containsTrue ? .string(text) : value
        default: return value
        }
    }

    static func resourceChange(_ resource: JSONValue) -> JSONValue {
        guard case .object(var members) = resource, let change = members["change"] else { return resource }
        members["change"] = self.change(change)
        return .object(members)
    }

    static func change(_ change: JSONValue) -> JSONValue {
        guard case .object(var members) = change else { return change }
        if let before = members["before"] { members["before"] = masked(before, by: members["before_sensitive"]) }
        if let after = members["after"] { members["after"] = masked(after, by: members["after_sensitive"]) }
        return .object(members)
    }

    /// `planned_values` or `prior_state.values`: outputs and the module tree.
    static func values(_ values: JSONValue) -> JSONValue {
        guard case .object(var members) = values else { return values }
        if case .object(let outputs)? = members["outputs"] {
            members["outputs"] = .object(outputs.mapValues { output in
                guard case .object(var fields) = output, fields["sensitive"] == .bool(true), let value = fields["value"] else { return output }
                fields["value"] = masked(value, by: .bool(true))
                return .object(fields)
            })
        }
        if let root = members["root_module"] { members["root_module"] = module(root) }
        return .object(members)
    }

    /// A module of a values tree, its resources masked, and its child modules likewise (as deep as
    /// the decoder let the document nest).
    static func module(_ module: JSONValue) -> JSONValue {
        guard case .object(var members) = module else { return module }
        if case .array(let resources)? = members["resources"] {
            members["resources"] = .array(resources.map { resource in
                guard case .object(var fields) = resource, let values = fields["values"] else { return resource }
                fields["values"] = masked(values, by: fields["sensitive_values"])
                return .object(fields)
            })
        }
        if case .array(let children)? = members["child_modules"] {
            members["child_modules"] = .array(children.map(self.module))
        }
        return .object(members)
    }

    /// Names of root variables the configuration declares `sensitive = true`.
    static func sensitiveVariables(_ configuration: JSONValue?) -> [String] {
        guard case .object(let variables)? = configuration?["root_module"]?["variables"] else { return [] }
        return variables.filter { $0.value["sensitive"] == .bool(true) }.map(\.key).sorted()
    }

    static func maskingDefaults(_ configuration: JSONValue, of names: [String]) -> JSONValue {
        guard case .object(var members) = configuration, case .object(var root)? = members["root_module"],
              case .object(var variables)? = root["variables"] else { return configuration }
        for name in names {
            guard case .object(var variable)? = variables[name], let value = variable["default"] else { continue }
            variable["default"] = masked(value, by: .bool(true))
            variables[name] = .object(variable)
        }
        root["variables"] = .object(variables)
        members["root_module"] = .object(root)
        return .object(members)
    }
}
