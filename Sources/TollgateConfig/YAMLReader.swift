import Foundation
import TollgateCore
import Yams

/// Walks a composed YAML tree, turning shape problems into located diagnostics.
///
/// Each accessor returns nil after recording a diagnostic, so one pass reports every problem in
/// the file instead of stopping at the first.
final class YAMLReader {
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    func location(_ node: Node?) -> SourceLocation? {
        guard let mark = node?.mark else { return nil }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    func location(_ mark: Mark) -> SourceLocation {
        SourceLocation(file: file, line: mark.line, column: mark.column)
    }

    func error(_ node: Node?, _ message: String, hint: String? = nil) {
        diagnostics.append(Diagnostic(at: location(node), message, hint: hint))
    }

    func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    /// A mapping's entries by key, after checking every key is known and the required ones exist.
    ///
    /// `context` names the mapping in messages ("environment 'prod'", "engine").
    func mapping(_ node: Node, _ context: String, allowed: [String], required: [String] = []) -> Fields? {
        guard case .mapping(let mapping) = node else {
            error(node, "\(context) must be a mapping, not \(describe(node))",
                  hint: "write it as 'key: value' lines indented under it")
            return nil
        }
        var fields = Fields(node: node)
        for (key, value) in mapping {
            guard let name = key.string, case .scalar = key else {
                error(key, "\(context) has a key that is not a plain name")
                continue
            }
            if !allowed.contains(name) {
                let hint = Suggestion.closest(to: name, in: allowed).map { "did you mean '\($0)'?" }
                    ?? "allowed keys: \(allowed.joined(separator: ", "))"
                error(key, "unknown key '\(name)' in \(context)", hint: hint)
                continue
            }
            fields.entries[name] = (key, value)
        }
        for name in required where fields.entries[name] == nil {
            error(node, "\(context) is missing '\(name)'", hint: "add '\(name):' to it")
        }
        return fields
    }

    /// A non-null scalar, as written (so `123456789012` reads as the account id it is).
    func string(_ node: Node?, _ what: String) -> Located<String>? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, node.tagName != .null else {
            error(node, "\(what) must be a string, not \(describe(node))")
            return nil
        }
        return Located(scalar.string, at: location(node))
    }

    func nonEmptyString(_ node: Node?, _ what: String) -> Located<String>? {
        guard let text = string(node, what) else { return nil }
        if text.value.trimmingCharacters(in: .whitespaces).isEmpty {
            error(node, "\(what) is empty")
            return nil
        }
        return text
    }

    func integer(_ node: Node?, _ what: String) -> Located<Int>? {
        guard let node else { return nil }
        guard case .scalar = node, node.tagName == .int, let number = node.int else {
            error(node, "\(what) must be a whole number, not \(describe(node))")
            return nil
        }
        return Located(number, at: location(node))
    }

    func boolean(_ node: Node?, _ what: String) -> Located<Bool>? {
        guard let node else { return nil }
        guard let value = node.boolean else {
            error(node, "\(what) must be true or false, not \(describe(node))")
            return nil
        }
        return Located(value, at: location(node))
    }

    func sequence(_ node: Node?, _ what: String) -> [Node]? {
        guard let node else { return nil }
        guard case .sequence(let items) = node else {
            error(node, "\(what) must be a list, not \(describe(node))", hint: "write each item on its own '- ' line")
            return nil
        }
        return Array(items)
    }

    func strings(_ node: Node?, _ what: String) -> [Located<String>]? {
        guard let items = sequence(node, what) else { return nil }
        return items.compactMap { string($0, "each item of \(what)") }
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        case .scalar:
            switch node.tagName {
            case .null: "null"
            case .bool: "a boolean"
            case .int: "a number"
            case .float: "a number"
            default: "the string '\(node.string ?? "")'"
            }
        }
    }
}

/// The entries of one mapping, looked up by key.
struct Fields {
    let node: Node
    var entries: [String: (key: Node, value: Node)] = [:]

    subscript(key: String) -> Node? { entries[key]?.value }
    func keyNode(_ key: String) -> Node? { entries[key]?.key }
}

extension Node {
    /// The node's type. A scalar's is its tag as written, or for a plain scalar written without
    /// one, what YAML 1.1 makes of its text (`PlainScalar`); quoted and block scalars are strings.
    ///
    /// This reads the scalar's own tag rather than `Node.tag`, which would resolve it with the
    /// file's resolver (`Resolver.basic`, which makes every scalar a string).
    var tagName: Tag.Name {
        guard case .scalar(let scalar) = self else { return Tag.Name(rawValue: tag.rawValue) }
        switch scalar.tag.description {
        case Tag.Name.implicit.rawValue: return scalar.style == .plain || scalar.style == .any ? PlainScalar.tag(of: scalar.string) : .str
        case Tag.Name.nonSpecific.rawValue: return .str
        case let written: return Tag.Name(rawValue: written)
        }
    }

    /// The scalar as a boolean when it is typed as one and reads as one.
    var boolean: Bool? {
        guard case .scalar(let scalar) = self, tagName == .bool else { return nil }
        return PlainScalar.boolean(scalar.string)
    }
}
