/// What one resource change does to its attributes, as a reviewer reads it: `image_tag "v1" → "v2"`
/// rather than only `update null_resource.server[0]`.
///
/// Built from the change's `before`, `after` and the engine's markers: values marked by
/// `before_sensitive`/`after_sensitive` never leave as anything but `(sensitive)`, values marked by
/// `after_unknown` read `(known after apply)`, and the paths of `replace_paths` are flagged as the
/// ones that force the replacement. Values are rendered short (`ValueText`), so a diff stays a
/// few lines per attribute whatever the plan holds.
public struct ResourceDiff: Sendable, Codable, Equatable {
    public var address: String
    /// `create`, `update`, `replace`, `delete`, … (the summary's verb).
    public var action: String
    public var attributes: [AttributeChange]
    /// Attribute paths the engine says force the replacement (`replace_paths`).
    public var forcesReplacement: [String]
    /// Attribute changes left out past `AttributeChange.limit`.
    public var omitted: Int

    public init(address: String, action: String, attributes: [AttributeChange], forcesReplacement: [String] = [], omitted: Int = 0) {
        self.address = address
        self.action = action
        self.attributes = attributes
        self.forcesReplacement = forcesReplacement
        self.omitted = omitted
    }

    enum CodingKeys: String, CodingKey {
        case address, action, attributes, omitted
        case forcesReplacement = "forces_replacement"
    }
}

/// One attribute that a change adds, removes or changes.
public struct AttributeChange: Sendable, Codable, Equatable {
    /// How many attribute changes one resource lists; the rest are counted in `ResourceDiff.omitted`.
    public static let limit = 40

    public enum Kind: String, Sendable, Codable {
        case added, removed, changed

        /// The plain-text mark that reads without colour.
        public var symbol: String {
            switch self {
            case .added: "+"
            case .removed: "-"
            case .changed: "~"
            }
        }
    }

    /// `triggers.image_tag`, `ingress[0].from_port`, `tags["cost-center"]`.
    public var path: String
    public var kind: Kind
    /// The value before, rendered; nil where the attribute is added.
    public var before: String?
    /// The value after, rendered; nil where the attribute is removed.
    public var after: String?
    /// Whether this path is one of `replace_paths`, or inside one.
    public var forcesReplacement: Bool
    /// For a multi-line string: the first line that differs (from 1), which `before` and `after` show.
    public var line: Int?

    public init(path: String, kind: Kind, before: String?, after: String?, forcesReplacement: Bool = false, line: Int? = nil) {
        self.path = path
        self.kind = kind
        self.before = before
        self.after = after
        self.forcesReplacement = forcesReplacement
        self.line = line
    }

    enum CodingKeys: String, CodingKey {
        case path, kind, before, after, line
        case forcesReplacement = "forces_replacement"
    }

    /// `+ path = value`, `- path = value`, `~ path: before → after`, with the line of a multi-line
    /// string and the replacement flag.
    public var text: String {
        let name = line.map { "\(path) (line \($0))" } ?? path
        let text = switch kind {
        case .added: "+ \(name) = \(after ?? "null")"
        case .removed: "- \(name) = \(before ?? "null")"
        case .changed: "~ \(name): \(before ?? "null") → \(after ?? "null")"
        }
        return forcesReplacement ? text + "  (forces replacement)" : text
    }
}

extension ResourceDiff {
    /// The attribute changes a line each, then how many were left out.
    public var lines: [String] {
        attributes.map(\.text) + (omitted > 0 ? ["… \(omitted) more attribute change\(omitted == 1 ? "" : "s") not listed"] : [])
    }
}

extension PlanSummary {
    /// The attribute diffs by resource address.
    public var diffsByAddress: [String: ResourceDiff] {
        Dictionary(diffs.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

extension ResourceDiff {
    public static let sensitive = "(sensitive)"
    public static let unknown = "(known after apply)"

    /// The diff of one resource change of decoded plan JSON (a `resource_changes` entry); nil for
    /// changes a reviewer reads no attributes of: no-ops, reads, forgets and deletions (whose every
    /// attribute goes, which the verb already says).
    public init?(_ resource: JSONValue, kind: ChangeKind) {
        guard [.create, .update, .replace].contains(kind),
              let address = resource["address"]?.stringValue, let change = resource["change"] else { return nil }
        let replacePaths: [[PathStep]] = {
            guard case .array(let paths)? = change["replace_paths"] else { return [] }
            return paths.compactMap { path in
                guard case .array(let steps) = path else { return nil }
                return steps.compactMap(PathStep.init)
            }
        }()
        var walker = DiffWalker(replacePaths: replacePaths)
        walker.walk([], before: change["before"].flatMap(\.nonNull), after: change["after"].flatMap(\.nonNull),
                    unknown: change["after_unknown"], beforeSensitive: change["before_sensitive"], afterSensitive: change["after_sensitive"])
        let listed = Array(walker.changes.prefix(AttributeChange.limit))
        self.init(address: address, action: kind.rawValue, attributes: listed, forcesReplacement: replacePaths.map(PathStep.render),
                  omitted: walker.changes.count - listed.count)
    }

    /// The diffs of every resource change in decoded plan JSON that has attributes to show, in the
    /// plan's order.
    public static func all(in plan: JSONValue) -> [ResourceDiff] {
        guard case .array(let resources)? = plan["resource_changes"] else { return [] }
        return resources.compactMap { resource in
            guard case .array(let actions)? = resource["change"]?["actions"] else { return nil }
            let kind = ChangeKind(actions: actions.compactMap(\.stringValue).map(Action.init(text:)))
            return ResourceDiff(resource, kind: kind)
        }
    }
}

/// One step of an attribute path: an object key or a list index.
enum PathStep: Equatable {
    case key(String)
    case index(Int)

    init?(_ value: JSONValue) {
        switch value {
        case .string(let key): self = .key(key)
        case .number(let number) where number >= 0 && number.rounded() == number && number < 1e15: self = .index(Int(number))
        default: return nil
        }
    }

    /// `a.b[0]["c d"]`: keys that are names with dots, others quoted in brackets.
    static func render(_ steps: [PathStep]) -> String {
        var text = ""
        for step in steps {
            switch step {
            case .index(let index): text += "[\(index)]"
            case .key(let key) where isName(key): text += text.isEmpty ? key : "." + key
            case .key(let key): text += "[" + ValueText.quoted(key) + "]"
            }
        }
        return text
    }

    static func isName(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return key.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
    }
}

/// Walks `before` and `after` side by side with their markers, collecting leaf changes.
private struct DiffWalker {
    let replacePaths: [[PathStep]]
    var changes: [AttributeChange] = []

    mutating func walk(_ path: [PathStep], before: JSONValue?, after: JSONValue?, unknown: JSONValue?,
                       beforeSensitive: JSONValue?, afterSensitive: JSONValue?) {
        let hiddenBefore = beforeSensitive == .bool(true), hiddenAfter = afterSensitive == .bool(true)
        let unknownAfter = unknown == .bool(true)
        if hiddenBefore || hiddenAfter || unknownAfter {
            let shownBefore = before.map { hiddenBefore ? ResourceDiff.sensitive : ValueText.render($0) }
            let shownAfter: String? = unknownAfter ? ResourceDiff.unknown : after.map { hiddenAfter ? ResourceDiff.sensitive : ValueText.render($0) }
            // A sensitive value that did not change is not a change; comparing the real values says so
            // without showing either.
            if !unknownAfter, before == after { return }
            record(path, before: shownBefore, after: shownAfter)
            return
        }
        switch (before, after) {
        case (.object(let old)?, .object(let new)?):
            for key in Set(old.keys).union(new.keys).union(unknown.objectKeys).sorted() {
                walk(path + [.key(key)], before: old[key].flatMap(\.nonNull), after: new[key].flatMap(\.nonNull), unknown: unknown?[key],
                     beforeSensitive: beforeSensitive?[key], afterSensitive: afterSensitive?[key])
            }
        case (.object(let old)?, nil):
            for key in old.keys.sorted() {
                walk(path + [.key(key)], before: old[key].flatMap(\.nonNull), after: nil, unknown: nil,
                     beforeSensitive: beforeSensitive?[key], afterSensitive: nil)
            }
        case (nil, .object(let new)?):
            for key in Set(new.keys).union(unknown.objectKeys).sorted() {
                walk(path + [.key(key)], before: nil, after: new[key].flatMap(\.nonNull), unknown: unknown?[key],
                     beforeSensitive: nil, afterSensitive: afterSensitive?[key])
            }
        case (.array(let old)?, .array(let new)?):
            for index in 0..<max(old.count, new.count, unknown.arrayCount) {
                walk(path + [.index(index)], before: old.element(at: index)?.nonNull, after: new.element(at: index)?.nonNull, unknown: unknown?.element(index),
                     beforeSensitive: beforeSensitive?.element(index), afterSensitive: afterSensitive?.element(index))
            }
        case (.array(let old)?, nil):
            for index in old.indices {
                walk(path + [.index(index)], before: old.element(at: index)?.nonNull, after: nil, unknown: nil,
                     beforeSensitive: beforeSensitive?.element(index), afterSensitive: nil)
            }
        case (nil, .array(let new)?):
            for index in 0..<max(new.count, unknown.arrayCount) {
                walk(path + [.index(index)], before: nil, after: new.element(at: index)?.nonNull, unknown: unknown?.element(index),
                     beforeSensitive: nil, afterSensitive: afterSensitive?.element(index))
            }
        default:
            // A sensitivity marker below this point (an object that became a string) hides the whole value.
            let maskBefore = beforeSensitive?.containsTrue == true, maskAfter = afterSensitive?.containsTrue == true
            guard before != after else { return }
            if !maskBefore, !maskAfter, case .string(let old)? = before, case .string(let new)? = after, old.contains("\n") || new.contains("\n") {
                recordLines(path, before: old, after: new)
                return
            }
            record(path, before: before.map { maskBefore ? ResourceDiff.sensitive : ValueText.render($0) },
                   after: after.map { maskAfter ? ResourceDiff.sensitive : ValueText.render($0) })
        }
    }

    mutating func record(_ path: [PathStep], before: String?, after: String?, line: Int? = nil) {
        guard before != nil || after != nil else { return }
        let kind: AttributeChange.Kind = before == nil ? .added : after == nil ? .removed : .changed
        let forces = replacePaths.contains { replace in replace.count <= path.count && Array(path.prefix(replace.count)) == replace }
        changes.append(AttributeChange(path: path.isEmpty ? "(value)" : PathStep.render(path), kind: kind, before: before, after: after,
                                       forcesReplacement: forces, line: line))
    }

    /// A multi-line string (a policy document, a script) that changed: its first differing line on
    /// each side, and how many other lines differ.
    mutating func recordLines(_ path: [PathStep], before: String, after: String) {
        let old = before.split(separator: "\n", omittingEmptySubsequences: false)
        let new = after.split(separator: "\n", omittingEmptySubsequences: false)
        let differing = (0..<max(old.count, new.count)).filter { old.element(at: $0) != new.element(at: $0) }
        guard let first = differing.first else { return }
        let more = differing.count - 1
        func shown(_ line: Substring?) -> String { line.map { ValueText.render(.string(String($0))) } ?? "(no line)" }
        record(path, before: shown(old.element(at: first)),
               after: shown(new.element(at: first)) + (more > 0 ? " (+ \(more) more changed line\(more == 1 ? "" : "s"))" : ""),
               line: first + 1)
    }
}

/// Values rendered for a reviewer: strings quoted, containers as compact JSON, and anything long
/// cut short with what was left out counted.
public enum ValueText {
    /// The most characters one rendered value keeps.
    public static let maxCharacters = 120

    public static func render(_ value: JSONValue) -> String {
        if case .string(let text) = value {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.count > 1 {
                let more = lines.count - 1 - (lines.last?.isEmpty == true ? 1 : 0)
                let first = shortened(quoted(String(lines[0])))
                return more > 0 ? first + " (+ \(more) more line\(more == 1 ? "" : "s"))" : first
            }
        }
        return shortened(CanonicalJSON.encode(value))
    }

    static func quoted(_ text: String) -> String { CanonicalJSON.encode(.string(text)) }

    static func shortened(_ text: String) -> String {
        guard text.count > maxCharacters else { return text }
        let omitted = text.count - maxCharacters
        return String(text.prefix(maxCharacters)) + "… (+ \(omitted) more character\(omitted == 1 ? "" : "s"))"
    }
}

extension JSONValue {
    /// The value, or nil for JSON null: an attribute set to null is an attribute not set.
    var nonNull: JSONValue? { self == .null ? nil : self }

    func element(_ index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index].nonNull
    }
}

private extension Array {
    func element(at index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

private extension Optional where Wrapped == JSONValue {
    var objectKeys: [String] {
        if case .object(let members)? = self { return Array(members.keys) }
        return []
    }

    var arrayCount: Int {
        if case .array(let items)? = self { return items.count }
        return 0
    }
}
