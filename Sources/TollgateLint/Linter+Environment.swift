import HCL

/// The environment rules `env-conditional` and `env-literal`.
///
/// Precision matters more than reach here: a rule that fires on `/dev/xvda` or on a variable's
/// description teaches people to ignore it. So a string is an environment literal only when it
/// names an environment as a whole (`"prod"`) or builds a name from one (`"${var.name}-prod"`,
/// `"shop-prod-assets"`); paths, URLs, ARNs, device names and free text are left alone. Code that
/// tests or looks up the environment (`==`, `!=`, `contains`, `lookup`, `startswith`, an index
/// by the environment) is one `env-conditional` finding, and the names inside it are part of it.
extension Linter {
    struct EnvironmentFinding {
        var rule: String
        var range: HCLRange
        var message: String
    }

    /// Functions that test or pick by their arguments: one of them applied to the environment is a branch.
    static let environmentTests: Set<String> = ["contains", "lookup", "index", "startswith", "endswith", "strcontains", "regex", "regexall"]
    /// Functions that only normalise a string: `lower(var.env)` is still the environment.
    static let normalisers: Set<String> = ["lower", "upper", "title", "trimspace", "trim", "tostring"]
    /// Attributes whose value is prose for people, never behaviour.
    static let proseAttributes: Set<String> = ["description", "error_message"]

    func environmentFindings(_ file: HCLFile, inputs: Set<String>, names: Set<String>, perEnvironmentLocals: Set<String>) -> [EnvironmentFinding] {
        var findings: [EnvironmentFinding] = []
        let lowered = Set(names.map { $0.lowercased() })
        func add(_ rule: String, _ range: HCLRange, _ message: String) {
            findings.append(EnvironmentFinding(rule: rule, range: range, message: message))
        }
        func check(_ node: HCLExpression) -> Bool {
            switch node {
            case .binary(let op, let left, let right, let range) where op == "==" || op == "!=":
                if let (input, literal) = envComparison(left, right, inputs) {
                    add("env-conditional", range, "'\(file.text(of: range))' branches on \(input) \(op) \"\(literal)\"; move the value that differs for '\(literal)' into config/\(literal)/ and use a variable")
                    // The environment name in the comparison is part of this finding, not another.
                    return false
                }
            case .functionCall(let name, let arguments, _, let range) where Self.environmentTests.contains(name):
                guard let input = arguments.lazy.compactMap({ envInput($0, inputs) }).first else { break }
                let message = name == "lookup"
                    ? "lookup() picks a per-environment value by \(input); move each environment's value into config/ENV/ and use a variable"
                    : "\(name)() tests \(input), so the code branches on the environment's name; move what differs into config/ENV/ and use a variable"
                add("env-conditional", range, message)
                return false
            case .index(let collection, let key, let range):
                guard let input = envInput(key, inputs) else { break }
                if case .object(let items, _) = unwrap(collection), keysAreEnvironments(items, names) {
                    add("env-conditional", range, "a map of per-environment values is indexed by \(input); move each environment's value into config/ENV/ and use a variable")
                } else if let name = unwrap(collection).references.first?.path, perEnvironmentLocals.contains(name) {
                    add("env-conditional", range, "\(name) holds per-environment values and is indexed by \(input); move each environment's value into config/ENV/ and use a variable")
                } else {
                    add("env-conditional", range, "'\(file.text(of: unwrap(collection).range))' is indexed by \(input), so each environment picks its own entry; move each environment's value into config/ENV/ and use a variable")
                }
                return false
            case .object(let items, _) where keysAreEnvironments(items, names):
                // The keys of a per-environment map are not literals of their own; its values may hold some.
                for item in items { item.value.visit(check) }
                return false
            case .literal(.string(let text), let range):
                if let word = Self.environmentName(in: [text], lowered) {
                    add("env-literal", range, "the environment name '\(word)' is written into code; take it from a variable set in config/\(word)/")
                }
            case .template(let template, let range) where !template.isHeredoc:
                if let word = Self.environmentName(in: Self.pieces(template), lowered) {
                    add("env-literal", range, "the environment name '\(word)' is written into a string in code; use a variable set in config/\(word)/")
                }
            default:
                break
            }
            return true
        }
        for expression in environmentExpressions(file.body) { expression.visit(check) }
        return findings
    }

    /// The expressions the environment rules read: every attribute value except prose
    /// (`description`, `error_message`) and `validation` blocks, which declare what values a
    /// variable accepts rather than behave differently per environment.
    func environmentExpressions(_ body: HCLBody) -> [HCLExpression] {
        body.items.flatMap { item -> [HCLExpression] in
            switch item {
            case .attribute(let attribute): Self.proseAttributes.contains(attribute.name) ? [] : [attribute.value]
            case .block(let block): block.type == "validation" ? [] : environmentExpressions(block.body)
            }
        }
    }

    /// A template's text pieces, nil for each interpolation; nil as a whole when it holds an
    /// `%{if}` or `%{for}` directive (generated text, treated as free text).
    static func pieces(_ template: HCLTemplate) -> [String?] {
        var pieces: [String?] = []
        for part in template.parts {
            switch part {
            case .literal(let text): pieces.append(text)
            case .interpolation: pieces.append(nil)
            case .ifDirective, .forDirective: return []
            }
        }
        return pieces
    }

    /// The environment a string names or builds a name from, given its text pieces (nil marks an
    /// interpolation) and the environment names in lower case.
    ///
    /// A string counts when it is, as a whole, an environment name (in any case: `"prod"`,
    /// `"Prod"`), or when it is name-shaped — only letters, digits, `-` and `_` around its
    /// interpolations — and one of its `-`/`_`-separated words is an environment name
    /// (`"${var.name}-prod"`, `"shop_stage_db"`). Anything with a space, `/`, `.`, `:` or other
    /// punctuation is a path, URL, ARN, device, host name or prose, and never counts.
    static func environmentName(in pieces: [String?], _ names: Set<String>) -> String? {
        let literals = pieces.compactMap { $0 }
        guard !literals.isEmpty else { return nil }
        if literals.count == pieces.count, names.contains(literals.joined().lowercased()) { return literals.joined().lowercased() }
        guard literals.allSatisfy({ $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") } }) else { return nil }
        let words = literals.flatMap { $0.split { $0 == "-" || $0 == "_" } }.map { $0.lowercased() }
        return words.first { names.contains($0) }
    }

    /// The environment input an expression is, directly or through a normaliser (`lower(var.env)`).
    func envInput(_ expression: HCLExpression, _ inputs: Set<String>) -> String? {
        let expression = unwrap(expression)
        if case .functionCall(let name, let arguments, _, _) = expression, Self.normalisers.contains(name), let first = arguments.first {
            return envInput(first, inputs)
        }
        let references = expression.references
        guard references.count == 1, let path = references.first?.path, inputs.contains(path) else { return nil }
        if case .variable = expression { return path }
        if case .getAttribute = expression { return path }
        return nil
    }

    /// An environment input compared with a non-empty string; `var.env != ""` only checks that it is set.
    func envComparison(_ left: HCLExpression, _ right: HCLExpression, _ inputs: Set<String>) -> (String, String)? {
        for (a, b) in [(left, right), (right, left)] {
            if let input = envInput(a, inputs), case .string(let literal)? = unwrap(b).literalValue, !literal.isEmpty { return (input, literal) }
        }
        return nil
    }
}
