import Foundation
import TestSupport

/// The few GitHub Actions expressions (`${{ … }}`) the generated workflows use, evaluated the way
/// GitHub does: property paths, string literals, `==` / `!=` (strings compared case-insensitively),
/// `!`, `&&`, `||`, parentheses and the status functions. Anything else is an error naming it, so
/// the generator cannot outgrow the rehearsal without the rehearsal saying so.
indirect enum WorkflowExpression: Equatable {
    case literal(Value)
    case path([String])
    case status(String)
    case not(WorkflowExpression)
    case equal(WorkflowExpression, WorkflowExpression, negated: Bool)
    case and(WorkflowExpression, WorkflowExpression)
    case or(WorkflowExpression, WorkflowExpression)

    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case null

        /// GitHub's truthiness: false, null and the empty string are false.
        var truthy: Bool {
            switch self {
            case .string(let text): !text.isEmpty
            case .bool(let flag): flag
            case .null: false
            }
        }

        /// The text an expression leaves in an interpolated string.
        var text: String {
            switch self {
            case .string(let text): text
            case .bool(let flag): flag ? "true" : "false"
            case .null: ""
            }
        }
    }

    /// What an expression can read: named contexts (`github.sha`, `needs.release.outputs.release`)
    /// and the status functions.
    struct Context {
        var resolve: (_ path: [String]) throws -> Value
        var status: (_ function: String) throws -> Bool
    }

    static let statusFunctions: Set<String> = ["always", "success", "failure", "cancelled"]

    /// Does the expression call a status function? Without one, GitHub adds `success() &&`.
    var callsStatus: Bool {
        switch self {
        case .status: true
        case .literal, .path: false
        case .not(let inner): inner.callsStatus
        case .equal(let left, let right, _), .and(let left, let right), .or(let left, let right): left.callsStatus || right.callsStatus
        }
    }

    func evaluate(_ context: Context) throws -> Value {
        switch self {
        case .literal(let value): return value
        case .path(let path): return try context.resolve(path)
        case .status(let function): return .bool(try context.status(function))
        case .not(let inner): return .bool(!(try inner.evaluate(context).truthy))
        case .equal(let left, let right, let negated):
            let equal = Self.looselyEqual(try left.evaluate(context), try right.evaluate(context))
            return .bool(equal != negated)
        case .and(let left, let right):
            let first = try left.evaluate(context)
            return first.truthy ? try right.evaluate(context) : first
        case .or(let left, let right):
            let first = try left.evaluate(context)
            return first.truthy ? first : try right.evaluate(context)
        }
    }

    static func looselyEqual(_ left: Value, _ right: Value) -> Bool {
        switch (left, right) {
        case (.string(let a), .string(let b)): a.caseInsensitiveCompare(b) == .orderedSame
        default: left == right
        }
    }

    // MARK: - Text

    /// Replaces every `${{ … }}` in a value.
    static func interpolate(_ text: String, _ context: Context) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${{") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw TestSupportError("unterminated expression in '\(text)'")
            }
            result += try parse(String(rest[open.upperBound..<close.lowerBound])).evaluate(context).text
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    /// An `if:` condition, bare or inside `${{ }}`; without a status function it means `success() && …`.
    static func condition(_ text: String?, _ context: Context) throws -> Bool {
        guard let text else { return try context.status("success") }
        var source = text.trimmingCharacters(in: .whitespaces)
        if source.hasPrefix("${{") && source.hasSuffix("}}") && source.components(separatedBy: "${{").count == 2 {
            source = String(source.dropFirst(3).dropLast(2))
        }
        let expression = try parse(source)
        let guarded = expression.callsStatus ? expression : .and(.status("success"), expression)
        return try guarded.evaluate(context).truthy
    }

    // MARK: - Parsing

    enum Token: Equatable {
        case identifier(String)
        case string(String)
        case symbol(String)
    }

    static func parse(_ source: String) throws -> WorkflowExpression {
        var parser = Parser(tokens: try tokens(source), source: source)
        let expression = try parser.or()
        guard parser.index == parser.tokens.count else {
            throw TestSupportError("the rehearsal cannot read the expression '\(source)' (unexpected \(parser.tokens[parser.index]))")
        }
        return expression
    }

    static func tokens(_ source: String) throws -> [Token] {
        var tokens: [Token] = []
        let characters = Array(source)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace { index += 1; continue }
            if character == "'" {
                var text = ""
                index += 1
                while true {
                    guard index < characters.count else { throw TestSupportError("unterminated string in expression '\(source)'") }
                    if characters[index] == "'" {
                        if index + 1 < characters.count && characters[index + 1] == "'" { text.append("'"); index += 2; continue }
                        index += 1
                        break
                    }
                    text.append(characters[index])
                    index += 1
                }
                tokens.append(.string(text))
                continue
            }
            let two = index + 1 < characters.count ? String(characters[index...index + 1]) : ""
            if ["==", "!=", "&&", "||"].contains(two) { tokens.append(.symbol(two)); index += 2; continue }
            if "!()".contains(character) { tokens.append(.symbol(String(character))); index += 1; continue }
            if character.isLetter || character == "_" {
                var name = ""
                while index < characters.count, characters[index].isLetter || characters[index].isNumber || "_-.".contains(characters[index]) {
                    name.append(characters[index])
                    index += 1
                }
                tokens.append(.identifier(name))
                continue
            }
            throw TestSupportError("the rehearsal cannot read '\(character)' in the expression '\(source)'")
        }
        return tokens
    }

    struct Parser {
        let tokens: [Token]
        let source: String
        var index = 0

        mutating func next() -> Token? {
            guard index < tokens.count else { return nil }
            defer { index += 1 }
            return tokens[index]
        }

        func peek(_ symbol: String) -> Bool { index < tokens.count && tokens[index] == .symbol(symbol) }

        mutating func or() throws -> WorkflowExpression {
            var left = try and()
            while peek("||") { index += 1; left = .or(left, try and()) }
            return left
        }

        mutating func and() throws -> WorkflowExpression {
            var left = try comparison()
            while peek("&&") { index += 1; left = .and(left, try comparison()) }
            return left
        }

        mutating func comparison() throws -> WorkflowExpression {
            let left = try unary()
            if peek("==") || peek("!=") {
                let negated = peek("!=")
                index += 1
                return .equal(left, try unary(), negated: negated)
            }
            return left
        }

        mutating func unary() throws -> WorkflowExpression {
            if peek("!") { index += 1; return .not(try unary()) }
            return try primary()
        }

        mutating func primary() throws -> WorkflowExpression {
            switch next() {
            case .symbol("("):
                let inner = try or()
                guard next() == .symbol(")") else { throw TestSupportError("missing ')' in expression '\(source)'") }
                return inner
            case .string(let text): return .literal(.string(text))
            case .identifier("true"): return .literal(.bool(true))
            case .identifier("false"): return .literal(.bool(false))
            case .identifier("null"): return .literal(.null)
            case .identifier(let name):
                if peek("(") {
                    guard WorkflowExpression.statusFunctions.contains(name) else {
                        throw TestSupportError("the rehearsal does not support the function '\(name)()' in '\(source)'")
                    }
                    index += 1
                    guard next() == .symbol(")") else { throw TestSupportError("the rehearsal supports '\(name)()' without arguments only, in '\(source)'") }
                    return .status(name)
                }
                return .path(name.split(separator: ".", omittingEmptySubsequences: false).map(String.init))
            case let other:
                throw TestSupportError("the rehearsal cannot read the expression '\(source)' (at \(other.map { "\($0)" } ?? "its end"))")
            }
        }
    }
}
