import Foundation

/// A recursive-descent parser for HCL's native syntax, working directly on UTF-8 bytes.
///
/// It never stops at the first problem: each diagnostic is recorded and parsing resumes at the
/// next line or closing bracket, so an editor or linter sees every error and the rest of the tree.
public enum HCLParser {
    /// How deep constructs may nest (brackets, calls, blocks, operators, directives, traversal and
    /// operator chains all count). Real configurations stay far below it; past it the parser reports
    /// `nested deeper than 128` and stops, so neither it nor the code walking its tree can run out of stack.
    public static let maxNesting = 128

    public static func parse(_ text: String) -> HCLFile {
        parse(bytes: Array(text.utf8))
    }

    /// Parses text that is a template as a whole (a JSON-syntax string value): `${}` and `%{}`
    /// are read, backslashes are not escapes.
    /// `nesting` is how deep the template already sits (in a JSON document), counted against the limit.
    public static func parseTemplate(_ text: String, nesting: Int = 0) -> (HCLExpression, [HCLDiagnostic]) {
        var parser = Parser(Array(text.utf8))
        parser.depth = nesting
        let expression = parser.parseBareTemplate()
        return (expression, parser.diagnostics)
    }

    public static func parse(bytes: [UInt8]) -> HCLFile {
        var parser = Parser(bytes)
        let body = parser.parseBody(nested: false, openedAt: nil)
        return HCLFile(body: body, diagnostics: parser.diagnostics, source: bytes)
    }
}

private enum Byte {
    static let newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
    static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), dollar = UInt8(ascii: "$"), percent = UInt8(ascii: "%")
    static let lbrace = UInt8(ascii: "{"), rbrace = UInt8(ascii: "}"), lbracket = UInt8(ascii: "["), rbracket = UInt8(ascii: "]")
    static let lparen = UInt8(ascii: "("), rparen = UInt8(ascii: ")"), comma = UInt8(ascii: ","), dot = UInt8(ascii: ".")
    static let equals = UInt8(ascii: "="), colon = UInt8(ascii: ":"), question = UInt8(ascii: "?"), tilde = UInt8(ascii: "~")
    static let hash = UInt8(ascii: "#"), slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), less = UInt8(ascii: "<")
    static let minus = UInt8(ascii: "-"), bang = UInt8(ascii: "!"), underscore = UInt8(ascii: "_"), greater = UInt8(ascii: ">")

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isIdentStart(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == underscore || b >= 0x80 }
    static func isIdentPart(_ b: UInt8) -> Bool { isIdentStart(b) || isDigit(b) || b == minus }
}

private struct Parser {
    let bytes: [UInt8]
    var pos = 0
    var diagnostics: [HCLDiagnostic] = []
    /// Newlines are insignificant inside brackets, parentheses, braces of collections and interpolations.
    var newlineDepth = 0
    let lineStarts: [Int]
    /// How deep the node being parsed sits; see `HCLParser.maxNesting`.
    var depth = 0
    /// Set once the nesting limit is passed: the rest of the input reads as its end, quietly.
    var abandoned = false

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        limit = bytes.count
        var starts = [0]
        var ascii: [Bool] = []
        bytes.withUnsafeBufferPointer { buffer in
            var lineASCII = true
            for index in 0..<buffer.count {
                let byte = buffer[index]
                if byte == Byte.newline {
                    starts.append(index + 1)
                    ascii.append(lineASCII)
                    lineASCII = true
                } else if byte >= 0x80 {
                    lineASCII = false
                }
            }
            ascii.append(lineASCII)
        }
        lineStarts = starts
        lineIsASCII = ascii
    }

    /// Lines with only ASCII bytes, whose columns are byte distances.
    let lineIsASCII: [Bool]

    // MARK: - Positions

    /// The line of the furthest position asked for: positions come mostly in order, so it is the
    /// first guess before a binary search.
    var lineHint = 0

    mutating func position(_ offset: Int) -> HCLPosition {
        let low = line(of: offset)
        if lineIsASCII[low] { return HCLPosition(line: low + 1, column: offset - lineStarts[low] + 1, offset: offset) }
        var column = 1
        var index = lineStarts[low]
        while index < offset && index < bytes.count {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return HCLPosition(line: low + 1, column: column, offset: offset)
    }

    /// The 0-based line holding `offset`. The hint follows the parser forward: the line itself,
    /// a few lines on, or else a binary search (below the hint for a node's start, which does
    /// not move the hint back).
    mutating func line(of offset: Int) -> Int {
        let count = lineStarts.count
        var line = lineHint
        if lineStarts[line] <= offset {
            let stop = min(count, line + 4)
            while line + 1 < stop && lineStarts[line + 1] <= offset { line += 1 }
            if line + 1 == count || offset < lineStarts[line + 1] {
                lineHint = line
                return line
            }
            line = search(offset, line + 1, count - 1)
            lineHint = line
            return line
        }
        return search(offset, 0, line - 1)
    }

    /// The last line in `low...high` that starts at or before `offset`.
    func search(_ offset: Int, _ low: Int, _ high: Int) -> Int {
        var low = low, high = high
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    mutating func range(_ start: Int, _ end: Int) -> HCLRange { HCLRange(start: position(start), end: position(max(start, end))) }

    mutating func error(_ message: String, _ start: Int, _ end: Int? = nil) {
        if abandoned || recovering { return }
        recovering = true
        diagnostics.append(HCLDiagnostic(message, at: range(start, end ?? min(start + 1, bytes.count))))
    }

    /// True (once, with a diagnostic) when `depth` passed the limit: parsing then stops, every
    /// open construct unwinds as if the file ended there, and no further diagnostic is added.
    mutating func tooDeep(at offset: Int) -> Bool {
        guard depth > HCLParser.maxNesting || abandoned else { return false }
        if !abandoned {
            recovering = false
            error("nested deeper than \(HCLParser.maxNesting)", offset)
            abandoned = true
            limit = 0
        }
        return true
    }

    /// Where parsing stops: the end of the file, or of a heredoc body while it is parsed.
    var limit: Int
    var atEnd: Bool { pos >= limit }
    func peek(_ ahead: Int = 0) -> UInt8? { pos + ahead < limit ? bytes[pos + ahead] : nil }
    func starts(with text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard pos + count <= limit else { return false }
        let pointer = text.utf8Start
        for index in 0..<count where bytes[pos + index] != pointer[index] { return false }
        return true
    }

    // MARK: - Whitespace and comments

    /// Where the unterminated block comment already reported starts.
    var reportedComment = -1

    /// Skips blanks and comments; newlines too when `newlines` (or inside brackets).
    mutating func skipSpace(newlines: Bool = false, ignoringDepth: Bool = false) {
        let skipNewlines = newlines || (newlineDepth > 0 && !ignoringDepth)
        while let byte = peek() {
            if byte == Byte.space || byte == Byte.tab || byte == Byte.cr {
                pos += 1
            } else if byte == Byte.newline && skipNewlines {
                pos += 1
            } else if byte == Byte.hash || (byte == Byte.slash && peek(1) == Byte.slash) {
                while let b = peek(), b != Byte.newline { pos += 1 }
            } else if byte == Byte.slash && peek(1) == Byte.star {
                let start = pos
                pos += 2
                while !atEnd && !(peek() == Byte.star && peek(1) == Byte.slash) { pos += 1 }
                if !atEnd {
                    pos += 2
                } else if reportedComment != start {
                    // Backtracking may skip the same comment again; report it once.
                    reportedComment = start
                    error("unterminated comment: '/*' has no closing '*/'", start, start + 2)
                }
            } else {
                break
            }
        }
    }

    /// Error recovery: skips the rest of a body item, so that one mistake gives one diagnostic.
    /// It stops at the first newline outside brackets, or before a `}` that closes the enclosing
    /// block (at the top level, where no block is open, such a `}` is skipped too).
    mutating func skipItem(nested: Bool = true) {
        skip(to: nil, nested: nested)
    }

    /// Error recovery inside brackets: skips past the `closer` that ends the construct, newlines
    /// and all; stops before a `}` that no bracket here opened, which likely closes a block.
    mutating func skipToCloser(_ closer: UInt8) {
        skip(to: closer, nested: true)
    }

    /// Skips ahead with nested brackets and quoted strings taken whole, to just past `closer`, or
    /// (with no closer) to the newline that ends the item; see `skipItem` and `skipToCloser`.
    mutating func skip(to closer: UInt8?, nested: Bool) {
        var open: [UInt8] = []
        while let byte = peek() {
            if open.isEmpty {
                if let closer, byte == closer {
                    pos += 1
                    return
                }
                if (closer == nil && byte == Byte.newline) || (byte == Byte.rbrace && nested) { return }
            }
            switch byte {
            case Byte.lbrace: open.append(Byte.rbrace)
            case Byte.lbracket: open.append(Byte.rbracket)
            case Byte.lparen: open.append(Byte.rparen)
            case Byte.rbrace, Byte.rbracket, Byte.rparen:
                if open.last == byte { open.removeLast() }
            case Byte.quote:
                pos += 1
                while let b = peek(), b != Byte.quote, b != Byte.newline { pos += b == Byte.backslash ? 2 : 1 }
                if peek() != Byte.quote { continue }
            default:
                break
            }
            pos += 1
        }
    }

    /// Set at an item's first diagnostic and cleared when the next item starts: what follows a
    /// mistake in the same item is its echo, not a new finding.
    var recovering = false

    // MARK: - Bodies

    mutating func identifier() -> (String, Int)? {
        guard let first = peek(), Byte.isIdentStart(first) else { return nil }
        let start = pos
        while let b = peek(), Byte.isIdentPart(b) { pos += 1 }
        return (String(decoding: bytes[start..<pos], as: UTF8.self), start)
    }

    mutating func parseBody(nested: Bool, openedAt: (name: String, offset: Int)?) -> HCLBody {
        let savedDepth = newlineDepth
        newlineDepth = 0
        defer { newlineDepth = savedDepth }
        let start = pos
        var items: [HCLBodyItem] = []
        var defined: [String: HCLRange] = [:]
        while true {
            skipSpace(newlines: true)
            recovering = false
            guard let byte = peek() else {
                if let openedAt { error("unclosed block '\(openedAt.name)': its '{' has no matching '}'", openedAt.offset) }
                break
            }
            if byte == Byte.rbrace {
                if nested { break }
                error("unexpected '}' with no block to close", pos)
                pos += 1
                continue
            }
            guard let item = parseItem(singleLine: false, defined: &defined) else {
                skipItem(nested: nested)
                continue
            }
            items.append(item)
            // Each item ends its line; the end of the file will do too.
            skipSpace()
            if !recovering, let next = peek(), next != Byte.newline {
                switch item {
                case .attribute(let attribute): error("expected a newline after the value of '\(attribute.name)'", pos)
                case .block(let block): error("expected a newline after the block '\(block.type)'", pos)
                }
            }
            if recovering { skipItem(nested: nested) }
        }
        return HCLBody(items: items, range: range(start, pos))
    }

    /// One attribute or block; nil (after a diagnostic and recovery) when neither starts here.
    /// In a single-line block (`a { b = 1 }`) only an attribute may stand.
    mutating func parseItem(singleLine: Bool, defined: inout [String: HCLRange]) -> HCLBodyItem? {
        guard let (name, nameStart) = identifier() else {
            error(singleLine ? "expected an attribute name or '}' in the single-line block" : "expected an attribute name or a block type here", pos)
            return nil
        }
        let nameRange = range(nameStart, nameStart + name.utf8.count)
        skipSpace()
        if peek() == Byte.equals && peek(1) != Byte.equals {
            pos += 1
            skipSpace()
            if let first = defined[name] {
                error("attribute '\(name)' is already set at \(first.start); each attribute may be set only once, so remove one of them", nameStart, nameStart + name.utf8.count)
            } else {
                defined[name] = nameRange
            }
            let value = parseExpression()
            return .attribute(HCLAttribute(name: name, nameRange: nameRange, value: value, range: range(nameStart, pos)))
        }
        if singleLine {
            error("a single-line block holds one attribute, not the block '\(name)'; put the nested block on lines of its own", nameStart, nameStart + name.utf8.count)
            return nil
        }
        // A block: labels, then a body in braces.
        var labels: [String] = []
        var labelRanges: [HCLRange] = []
        while let next = peek(), next == Byte.quote || Byte.isIdentStart(next) {
            let labelStart = pos
            if next == Byte.quote {
                labels.append(parseLabelString())
            } else {
                labels.append(identifier()!.0)
            }
            labelRanges.append(range(labelStart, pos))
            skipSpace()
        }
        guard peek() == Byte.lbrace else {
            error("expected '=' for an attribute or '{' to open block '\(name)'", pos)
            return nil
        }
        let open = pos
        pos += 1
        depth += 1
        defer { depth -= 1 }
        if tooDeep(at: open) { return nil }
        // A body that starts on the line of its '{' is a single-line block: one attribute at most,
        // and the '}' on the same line.
        skipSpace()
        let body: HCLBody
        if let next = peek(), next != Byte.newline, next != Byte.rbrace {
            body = parseSingleLineBody(name)
        } else {
            body = parseBody(nested: true, openedAt: (name, open))
        }
        if peek() == Byte.rbrace { pos += 1 }
        return .block(HCLBlock(type: name, labels: labels, labelRanges: labelRanges, body: body, range: range(nameStart, pos)))
    }

    /// The inside of `a { b = 1 }`, up to (not past) its `}`.
    mutating func parseSingleLineBody(_ block: String) -> HCLBody {
        let start = pos
        var defined: [String: HCLRange] = [:]
        let item = parseItem(singleLine: true, defined: &defined)
        skipSpace()
        if !recovering && peek() != Byte.rbrace {
            if case .attribute(let attribute)? = item {
                error("a single-line block ends right after its one attribute: put the '}' of '\(block)' after the value of '\(attribute.name)', or write each on a line of its own", pos)
            } else {
                error("unclosed block '\(block)': a single-line block needs its '}' on the same line", pos)
            }
        }
        // Skip to this block's '}' whatever lines it takes, so the mistake is reported once.
        if recovering {
            while !atEnd && peek() != Byte.rbrace {
                skipItem()
                if peek() == Byte.newline { pos += 1 }
            }
        }
        return HCLBody(items: item.map { [$0] } ?? [], range: range(start, pos))
    }

    /// A quoted block label: a plain string, no interpolation.
    mutating func parseLabelString() -> String {
        let start = pos
        switch parseQuoted() {
        case .literal(.string(let text), _):
            return text
        case .template(let template, _):
            error("a block label cannot contain interpolations or directives", start, pos)
            return template.parts.compactMap { if case .literal(let text) = $0 { text } else { nil } }.joined()
        default:
            return ""
        }
    }

    // MARK: - Expressions

    mutating func parseExpression() -> HCLExpression {
        let start = pos
        depth += 1
        defer { depth -= 1 }
        if tooDeep(at: start) { return .invalid(range(start, start)) }
        let condition = parseBinary(0)
        guard skipSpace(if: { next, _ in next == Byte.question }) else { return condition }
        pos += 1
        skipSpace()
        let whenTrue = parseExpression()
        skipSpace()
        guard peek() == Byte.colon else {
            error("expected ':' in the conditional expression", pos)
            return .conditional(condition, whenTrue, .invalid(range(pos, pos)), range(start, pos))
        }
        pos += 1
        skipSpace()
        let whenFalse = parseExpression()
        return .conditional(condition, whenTrue, whenFalse, range(start, pos))
    }

    /// The binary operator at the current position, if any, with its precedence level (0 binds
    /// loosest: `||`, then `&&`, equality, comparison, `+ -`, `* / %`).
    func matchOperator() -> (op: String, level: Int)? {
        guard let first = peek() else { return nil }
        let second = peek(1)
        switch first {
        case UInt8(ascii: "|"): return second == UInt8(ascii: "|") ? ("||", 0) : nil
        case UInt8(ascii: "&"): return second == UInt8(ascii: "&") ? ("&&", 1) : nil
        case Byte.equals: return second == Byte.equals ? ("==", 2) : nil
        case Byte.bang: return second == Byte.equals ? ("!=", 2) : nil
        case Byte.less: return second == Byte.equals ? ("<=", 3) : (second == Byte.less ? nil : ("<", 3))
        case Byte.greater: return second == Byte.equals ? (">=", 3) : (">", 3)
        case UInt8(ascii: "+"): return ("+", 4)
        case Byte.minus: return ("-", 4)
        case Byte.star: return ("*", 5)
        case Byte.slash: return ("/", 5)
        case Byte.percent: return second != Byte.lbrace ? ("%", 5) : nil
        default: return nil
        }
    }

    /// Binary operators of precedence `level` and tighter, left-associative (precedence climbing:
    /// one operator check per operand instead of one per level).
    mutating func parseBinary(_ level: Int) -> HCLExpression {
        let start = pos
        var left = parseUnary()
        // Each operator of a chain nests the tree one level deeper.
        let outerDepth = depth
        defer { depth = outerDepth }
        while true {
            let saved = pos
            skipSpace()
            guard let (op, found) = matchOperator(), found >= level else {
                pos = saved
                return left
            }
            depth += 1
            if tooDeep(at: pos) { return left }
            pos += op.utf8.count
            skipSpace()
            let right = parseBinary(found + 1)
            left = .binary(op, left, right, range(start, pos))
        }
    }

    mutating func parseUnary() -> HCLExpression {
        let start = pos
        if let byte = peek(), byte == Byte.minus || (byte == Byte.bang && peek(1) != Byte.equals) {
            depth += 1
            defer { depth -= 1 }
            if tooDeep(at: start) { return .invalid(range(start, start)) }
            pos += 1
            skipSpace()
            let operand = parseUnary()
            return .unary(byte == Byte.minus ? "-" : "!", operand, range(start, pos))
        }
        return parsePostfix(parsePrimary())
    }

    /// The `.` or `[` that continues a traversal, after any blanks and comments between them (and
    /// newlines inside brackets), as HCL's tokens allow: the position moves up to it. Nil, with the
    /// position unchanged, when the next token is something else (`...` is an expansion, not a step).
    mutating func traversalOperator() -> UInt8? {
        skipSpace(if: { next, after in (next == Byte.dot && after != Byte.dot) || next == Byte.lbracket }) ? peek() : nil
    }

    /// Skips blanks and comments (as `skipSpace()` does here) when the two bytes after them pass
    /// `wanted`, and says so; otherwise the position stays where it was.
    mutating func skipSpace(if wanted: (UInt8?, UInt8?) -> Bool) -> Bool {
        let saved = pos
        skipSpace()
        if wanted(peek(), peek(1)) { return true }
        pos = saved
        return false
    }

    mutating func parsePostfix(_ base: HCLExpression) -> HCLExpression {
        var expression = base
        let start = base.range.start.offset
        // Each step of a traversal nests the tree one level deeper.
        let outerDepth = depth
        defer { depth = outerDepth }
        while let byte = traversalOperator() {
            depth += 1
            if tooDeep(at: pos) { return expression }
            guard let step = parseStep(after: byte) else { return expression }
            switch step {
            case .attribute(let name):
                expression = .getAttribute(expression, name, range(start, pos))
            case .index(let index):
                expression = .index(expression, index, range(start, pos))
            case .splat(let full):
                let steps = parseSplatTraversal(full: full)
                expression = .splat(expression, full: full, traversal: steps, range(start, pos))
            }
        }
        return expression
    }

    /// One traversal step, from its `.` or `[` (the current byte): an attribute, an index (legacy
    /// `.0` too) or a splat operator. Nil after a diagnostic.
    mutating func parseStep(after byte: UInt8) -> HCLTraversalStep? {
        let open = pos
        pos += 1
        if byte == Byte.dot {
            skipSpace()
            if peek() == Byte.star {
                pos += 1
                return .splat(full: false)
            }
            if let digit = peek(), Byte.isDigit(digit) { return parseLegacyIndex(dot: open).map { .index($0) } }
            if let (name, _) = identifier() { return .attribute(name) }
            error("expected an attribute name, an index or '*' after '.'", pos)
            return nil
        }
        if splatStar() { return .splat(full: true) }
        newlineDepth += 1
        skipSpace()
        let index = parseExpression()
        skipSpace()
        newlineDepth -= 1
        if peek() == Byte.rbracket { pos += 1 } else { error("expected ']' to close the index opened here", open) }
        return .index(index)
    }

    /// After a traversal's `[`: reads `*]` when a full splat is here. Newlines count between its three
    /// tokens as they do around them (`[*]` is one operator, not a bracketed expression); on false, the
    /// position is unchanged.
    mutating func splatStar() -> Bool {
        guard skipSpace(if: { next, _ in next == Byte.star }) else { return false }
        pos += 1
        skipSpace()
        if peek() == Byte.rbracket {
            pos += 1
        } else {
            error("expected ']' right after the '*' of the splat '[*]'", pos)
            skipToCloser(Byte.rbracket)
        }
        return true
    }

    /// The number after a legacy index dot (`a.0`, `a.1e2`); nil, with a diagnostic, when the number
    /// has a fraction: `a.0.1` reads as the number `0.1`, so two legacy indexes cannot be chained.
    mutating func parseLegacyIndex(dot: Int) -> HCLExpression? {
        let number = parseNumber()
        guard case .literal(.number(let text), _) = number, let fraction = text.firstIndex(of: ".") else { return number }
        let first = text[..<fraction], second = text[text.index(after: fraction)...].prefix { $0.isNumber }
        error("legacy index '.\(text)' chains two indexes, which HCL does not allow; write [\(first)][\(second)] instead", dot, pos)
        return nil
    }

    /// The steps after a splat, up to the first token that is not a step. An attribute splat (`.*`)
    /// takes attribute and legacy index steps and ends at `[`; a full splat (`[*]`) takes index
    /// steps and nested splats too. A `.*` inside an attribute-only stretch (`a.*.b.*`) is an error.
    mutating func parseSplatTraversal(full: Bool) -> [HCLTraversalStep] {
        var steps: [HCLTraversalStep] = []
        var attributeOnly = !full
        while let byte = traversalOperator() {
            if byte == Byte.lbracket && !full { break }
            let open = pos
            guard let step = parseStep(after: byte) else { return steps }
            // Each nested splat counts as one level (the caller restores the depth): the steps are a
            // flat list, but a chain of splats nests in meaning.
            if case .splat = step {
                depth += 1
                if tooDeep(at: open) { return steps }
            }
            if byte == Byte.lbracket { attributeOnly = false }
            if case .splat(full: false) = step {
                if attributeOnly {
                    error("a splat cannot be nested inside an attribute-only splat '.*'; write the outer splat as '[*]'", open, pos)
                    return steps
                }
                attributeOnly = true
            }
            steps.append(step)
        }
        return steps
    }

    mutating func parsePrimary() -> HCLExpression {
        let start = pos
        guard let byte = peek() else {
            error("expected an expression, found the end of the file", max(0, pos - 1), pos)
            return .invalid(range(pos, pos))
        }
        if Byte.isDigit(byte) { return parseNumber() }
        if byte == Byte.quote { return parseQuoted() }
        if byte == Byte.less && peek(1) == Byte.less { return parseHeredoc() }
        if byte == Byte.lbracket { return parseTupleOrFor() }
        if byte == Byte.lbrace { return parseObjectOrFor() }
        if byte == Byte.lparen {
            pos += 1
            newlineDepth += 1
            skipSpace()
            let inner = parseExpression()
            skipSpace()
            newlineDepth -= 1
            if peek() == Byte.rparen { pos += 1 } else { error("expected ')' to close the '(' opened here", start) }
            return .parenthesized(inner, range(start, pos))
        }
        if Byte.isIdentStart(byte) {
            var (name, _) = identifier()!
            // Provider-defined functions: provider::NAME::function.
            while starts(with: "::"), let next = peek(2), Byte.isIdentStart(next) {
                pos += 2
                name += "::" + identifier()!.0
            }
            switch name {
            case "true": return .literal(.bool(true), range(start, pos))
            case "false": return .literal(.bool(false), range(start, pos))
            case "null": return .literal(.null, range(start, pos))
            default: break
            }
            if peek() == Byte.lparen { return parseCall(name, start: start) }
            return .variable(name, range(start, pos))
        }
        error("expected an expression here", pos)
        if byte != Byte.newline && byte != Byte.rbrace && byte != Byte.rbracket && byte != Byte.rparen && byte != Byte.comma { pos += 1 }
        return .invalid(range(start, pos))
    }

    mutating func parseNumber() -> HCLExpression {
        let start = pos
        while let b = peek(), Byte.isDigit(b) { pos += 1 }
        if peek() == Byte.dot, let next = peek(1), Byte.isDigit(next) {
            pos += 1
            while let b = peek(), Byte.isDigit(b) { pos += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var look = pos + 1
            if look < bytes.count, bytes[look] == UInt8(ascii: "+") || bytes[look] == Byte.minus { look += 1 }
            if look < bytes.count, Byte.isDigit(bytes[look]) {
                pos = look
                while let b = peek(), Byte.isDigit(b) { pos += 1 }
            }
        }
        return .literal(.number(String(decoding: bytes[start..<pos], as: UTF8.self)), range(start, pos))
    }

    mutating func parseCall(_ name: String, start: Int) -> HCLExpression {
        let open = pos
        pos += 1
        newlineDepth += 1
        defer { newlineDepth -= 1 }
        var arguments: [HCLExpression] = []
        var expand = false
        skipSpace()
        while let byte = peek(), byte != Byte.rparen {
            arguments.append(parseExpression())
            skipSpace()
            if starts(with: "...") {
                pos += 3
                expand = true
                skipSpace()
            }
            if peek() == Byte.comma {
                pos += 1
                skipSpace()
                if expand { error("'...' may only expand the last argument", pos) }
            } else if peek() != Byte.rparen {
                error("expected ',' or ')' in the arguments of '\(name)'", pos)
                skipToCloser(Byte.rparen)
                return .functionCall(name: name, arguments: arguments, expandFinal: expand, range(start, pos))
            }
        }
        if peek() == Byte.rparen { pos += 1 } else { error("expected ')' to close the call to '\(name)' opened here", open) }
        return .functionCall(name: name, arguments: arguments, expandFinal: expand, range(start, pos))
    }

    func keyword(_ word: StaticString) -> Bool {
        guard starts(with: word) else { return false }
        let after = pos + word.utf8CodeUnitCount
        return after >= bytes.count || !Byte.isIdentPart(bytes[after])
    }

    mutating func parseTupleOrFor() -> HCLExpression {
        let start = pos
        pos += 1
        newlineDepth += 1
        defer { newlineDepth -= 1 }
        skipSpace()
        if keyword("for") {
            let clause = parseForIntro(start: start)
            let value = parseExpression()
            let condition = parseForCondition()
            skipSpace()
            if peek() == Byte.rbracket { pos += 1 } else { error("expected ']' to close the 'for' expression opened here", start) }
            return .forTuple(HCLForClause(keyVariable: clause.0, valueVariable: clause.1, collection: clause.2, condition: condition), value: value, range(start, pos))
        }
        var items: [HCLExpression] = []
        while let byte = peek(), byte != Byte.rbracket {
            items.append(parseExpression())
            skipSpace()
            if peek() == Byte.comma {
                pos += 1
                skipSpace()
            } else if peek() != Byte.rbracket {
                error("expected ',' or ']' in the tuple opened here", start)
                skipToCloser(Byte.rbracket)
                return .tuple(items, range(start, pos))
            }
        }
        if peek() == Byte.rbracket { pos += 1 } else { error("unclosed tuple: '[' has no matching ']'", start) }
        return .tuple(items, range(start, pos))
    }

    /// `for K, V in COLLECTION :` — returns the variables and the collection.
    mutating func parseForIntro(start: Int) -> (String?, String, HCLExpression) {
        pos += 3
        skipSpace()
        var first = identifier()?.0 ?? ""
        if first.isEmpty { error("expected a variable name after 'for'", pos) }
        skipSpace()
        var second: String?
        if peek() == Byte.comma {
            pos += 1
            skipSpace()
            second = identifier()?.0
            if second == nil { error("expected a second variable name after ','", pos) }
            skipSpace()
        }
        if keyword("in") { pos += 2 } else { error("expected 'in' in the 'for' expression", pos) }
        skipSpace()
        let collection = parseExpression()
        skipSpace()
        if peek() == Byte.colon { pos += 1 } else { error("expected ':' after the collection of the 'for' expression", pos) }
        skipSpace()
        if let second {
            let key = first
            first = second
            return (key, first, collection)
        }
        return (nil, first, collection)
    }

    mutating func parseForCondition() -> HCLExpression? {
        skipSpace()
        guard keyword("if") else { return nil }
        pos += 2
        skipSpace()
        return parseExpression()
    }

    mutating func parseObjectOrFor() -> HCLExpression {
        let start = pos
        pos += 1
        newlineDepth += 1
        defer { newlineDepth -= 1 }
        skipSpace()
        if keyword("for") {
            let clause = parseForIntro(start: start)
            let key = parseExpression()
            skipSpace()
            if starts(with: "=>") { pos += 2 } else { error("expected '=>' between the key and value of the 'for' expression", pos) }
            skipSpace()
            let value = parseExpression()
            skipSpace()
            var grouping = false
            if starts(with: "...") {
                pos += 3
                grouping = true
            }
            let condition = parseForCondition()
            skipSpace()
            if peek() == Byte.rbrace { pos += 1 } else { error("expected '}' to close the 'for' expression opened here", start) }
            return .forObject(HCLForClause(keyVariable: clause.0, valueVariable: clause.1, collection: clause.2, condition: condition),
                              key: key, value: value, grouping: grouping, range(start, pos))
        }
        var items: [HCLObjectItem] = []
        while let byte = peek(), byte != Byte.rbrace {
            // Newlines separate the items, so within an item (outside inner brackets) they end it.
            let outerNewlines = newlineDepth
            newlineDepth = 0
            let key = parseExpression()
            skipSpace()
            var usesEquals = true
            if peek() == Byte.equals && peek(1) != Byte.equals {
                pos += 1
            } else if peek() == Byte.colon {
                pos += 1
                usesEquals = false
            } else {
                error("expected '=' or ':' after the key of an object item", pos)
                newlineDepth = outerNewlines
                // Resume after the next separator.
                while let b = peek(), b != Byte.comma, b != Byte.newline, b != Byte.rbrace { pos += 1 }
                if peek() == Byte.comma || peek() == Byte.newline { pos += 1 }
                skipSpace()
                continue
            }
            skipSpace()
            let value = parseExpression()
            newlineDepth = outerNewlines
            items.append(HCLObjectItem(key: key, value: value, usesEquals: usesEquals))
            // Items are separated by commas or newlines.
            skipSpace(ignoringDepth: true)
            if peek() == Byte.comma || peek() == Byte.newline {
                pos += 1
                skipSpace()
            } else if peek() != Byte.rbrace {
                error("expected ',' or a newline between object items", pos)
                while let b = peek(), b != Byte.newline, b != Byte.rbrace { pos += 1 }
                skipSpace()
            }
        }
        if peek() == Byte.rbrace { pos += 1 } else { error("unclosed object: '{' has no matching '}'", start) }
        return .object(items, range(start, pos))
    }

    // MARK: - Templates

    mutating func parseQuoted() -> HCLExpression {
        let start = pos
        pos += 1
        // Most strings are plain text: no escapes, interpolations or directives.
        var end = pos
        while end < limit {
            let byte = bytes[end]
            if byte == Byte.quote {
                let text = String(decoding: bytes[pos..<end], as: UTF8.self)
                pos = end + 1
                return .literal(.string(text), range(start, pos))
            }
            if byte == Byte.backslash || byte == Byte.dollar || byte == Byte.percent || byte == Byte.newline { break }
            end += 1
        }
        var builder = TemplateBuilder()
        var stack: [Frame] = []
        while true {
            guard let byte = peek(), byte != Byte.newline else {
                error("unterminated string: the '\"' opened here has no closing '\"' on this line", start)
                break
            }
            if byte == Byte.quote {
                pos += 1
                break
            }
            if byte == Byte.backslash {
                parseEscape(into: &builder)
                continue
            }
            if byte == Byte.dollar || byte == Byte.percent, parseTemplateMarker(into: &builder, stack: &stack, quoted: true) { continue }
            builder.appendByte(byte)
            pos += 1
        }
        reportUnterminated(stack)
        return template(builder.finished(), start: start)
    }

    struct Frame {
        var kind: String
        var start: Int
        var outer: TemplateBuilder
        var condition: HCLExpression?
        var thenParts: [HCLTemplatePart]?
        var forVariables: (String?, String)?
        var collection: HCLExpression?
    }

    mutating func reportUnterminated(_ stack: [Frame]) {
        depth -= stack.count
        for frame in stack {
            error("unterminated '%{ \(frame.kind) }' directive: it has no '%{ end\(frame.kind) }'", frame.start)
        }
    }

    /// A string template: a plain literal when it has no interpolation or directive.
    mutating func template(_ parts: [HCLTemplatePart], start: Int) -> HCLExpression {
        if parts.allSatisfy({ if case .literal = $0 { true } else { false } }) {
            return .literal(.string(parts.map { if case .literal(let text) = $0 { text } else { "" } }.joined()), range(start, pos))
        }
        return .template(HCLTemplate(parts: parts, isHeredoc: false), range(start, pos))
    }

    mutating func parseEscape(into builder: inout TemplateBuilder) {
        let start = pos
        pos += 1
        guard let code = peek() else { return }
        pos += 1
        switch code {
        case UInt8(ascii: "n"): builder.appendText("\n")
        case UInt8(ascii: "r"): builder.appendText("\r")
        case UInt8(ascii: "t"): builder.appendText("\t")
        case Byte.quote: builder.appendText("\"")
        case Byte.backslash: builder.appendText("\\")
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = code == UInt8(ascii: "u") ? 4 : 8
            let end = min(bytes.count, pos + count)
            let hex = String(decoding: bytes[pos..<end], as: UTF8.self)
            if hex.count == count, let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) {
                builder.appendText(String(Character(scalar)))
                pos = end
            } else {
                error("invalid unicode escape '\\\(Character(Unicode.Scalar(code)))\(hex)'", start, end)
                pos = end
            }
        default:
            error("invalid escape '\\\(Character(Unicode.Scalar(code)))'; use \\n, \\r, \\t, \\\", \\\\, \\uNNNN or \\UNNNNNNNN", start, pos)
        }
    }

    /// Handles `$${`, `%%{`, `${…}` and `%{…}` at the current position; false when none is here.
    mutating func parseTemplateMarker(into builder: inout TemplateBuilder, stack: inout [Frame], quoted: Bool) -> Bool {
        if starts(with: "$${") || starts(with: "%%{") {
            builder.appendText(peek() == Byte.dollar ? "${" : "%{")
            pos += 3
            return true
        }
        if starts(with: "${") {
            let open = pos
            pos += 2
            let stripBefore = peek() == Byte.tilde
            if stripBefore { pos += 1 }
            newlineDepth += 1
            skipSpace()
            let expression = parseExpression()
            skipSpace()
            newlineDepth -= 1
            let stripAfter = peek() == Byte.tilde
            if stripAfter { pos += 1 }
            if peek() == Byte.rbrace {
                pos += 1
            } else {
                error("unterminated interpolation: the '${' opened here has no closing '}'", open, open + 2)
                while let b = peek(), b != Byte.rbrace, b != Byte.newline, !(quoted && b == Byte.quote) { pos += 1 }
                if peek() == Byte.rbrace { pos += 1 }
            }
            builder.append(.interpolation(expression, stripBefore: stripBefore, stripAfter: stripAfter), stripBefore: stripBefore, stripAfter: stripAfter)
            return true
        }
        if starts(with: "%{") {
            let open = pos
            pos += 2
            let stripBefore = peek() == Byte.tilde
            if stripBefore { pos += 1 }
            newlineDepth += 1
            skipSpace()
            let word = identifier()?.0 ?? ""
            skipSpace()
            var condition: HCLExpression?
            var variables: (String?, String)?
            var collection: HCLExpression?
            switch word {
            case "if":
                condition = parseExpression()
            case "for":
                var first = identifier()?.0 ?? ""
                skipSpace()
                var key: String?
                if peek() == Byte.comma {
                    pos += 1
                    skipSpace()
                    key = first
                    first = identifier()?.0 ?? ""
                    skipSpace()
                }
                if keyword("in") { pos += 2 } else { error("expected 'in' in the '%{ for }' directive", pos) }
                skipSpace()
                collection = parseExpression()
                variables = (key, first)
            case "else", "endif", "endfor":
                break
            default:
                error("unknown template directive '\(word)'; use if, else, endif, for or endfor", open, pos)
            }
            skipSpace()
            newlineDepth -= 1
            let stripAfter = peek() == Byte.tilde
            if stripAfter { pos += 1 }
            if peek() == Byte.rbrace { pos += 1 } else { error("unterminated directive: the '%{' opened here has no closing '}'", open, open + 2) }
            if stripBefore { builder.stripTrailing() }
            switch word {
            case "if", "for":
                // An open directive nests what follows it one level deeper.
                depth += 1
                if tooDeep(at: open) {
                    depth -= 1
                    return true
                }
                stack.append(Frame(kind: word, start: open, outer: builder, condition: condition, forVariables: variables, collection: collection))
                builder = TemplateBuilder()
            case "else":
                if var frame = stack.last, frame.kind == "if", frame.thenParts == nil {
                    frame.thenParts = builder.finished()
                    stack[stack.count - 1] = frame
                    builder = TemplateBuilder()
                } else {
                    error("'%{ else }' without an open '%{ if }'", open, pos)
                }
            case "endif", "endfor":
                let kind = word == "endif" ? "if" : "for"
                if let frame = stack.last, frame.kind == kind {
                    stack.removeLast()
                    depth -= 1
                    let inner = builder.finished()
                    builder = frame.outer
                    if kind == "if" {
                        let thenParts = frame.thenParts ?? inner
                        let elseParts = frame.thenParts == nil ? nil : inner
                        builder.append(.ifDirective(condition: frame.condition ?? .invalid(range(open, open)), then: thenParts, else: elseParts), stripBefore: false, stripAfter: false)
                    } else {
                        builder.append(.forDirective(key: frame.forVariables?.0, value: frame.forVariables?.1 ?? "", collection: frame.collection ?? .invalid(range(open, open)), body: inner), stripBefore: false, stripAfter: false)
                    }
                } else {
                    error("'%{ \(word) }' without an open '%{ \(kind) }'", open, pos)
                }
            default:
                break
            }
            if stripAfter { builder.stripNextLeading = true }
            return true
        }
        return false
    }

    mutating func parseHeredoc() -> HCLExpression {
        let start = pos
        pos += 2
        let indented = peek() == Byte.minus
        if indented { pos += 1 }
        guard let (marker, _) = identifier() else {
            error("expected a heredoc marker such as EOT after '<<'", pos)
            return .invalid(range(start, pos))
        }
        let markerBytes = Array(marker.utf8)
        // The marker ends its line even inside brackets, where newlines are otherwise skipped.
        skipSpace(newlines: false, ignoringDepth: true)
        guard peek() == Byte.newline else {
            error("a heredoc marker must end its line", pos)
            while let b = peek(), b != Byte.newline { pos += 1 }
            return .invalid(range(start, pos))
        }
        pos += 1
        // Find the closing marker: a line holding only the marker (leading blanks allowed).
        let bodyStart = pos
        var lineStart = pos
        var bodyEnd: Int?
        var afterEnd = pos
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != Byte.newline { lineEnd += 1 }
            var first = lineStart, last = lineEnd
            while first < last, bytes[first] == Byte.space || bytes[first] == Byte.tab { first += 1 }
            while last > first, bytes[last - 1] == Byte.space || bytes[last - 1] == Byte.tab || bytes[last - 1] == Byte.cr { last -= 1 }
            if last - first == markerBytes.count && bytes[first..<last].elementsEqual(markerBytes) {
                bodyEnd = lineStart
                afterEnd = lineEnd
                break
            }
            if lineEnd >= bytes.count { break }
            lineStart = lineEnd + 1
        }
        guard let end = bodyEnd else {
            error("unterminated heredoc: '<<\(indented ? "-" : "")\(marker)' has no closing '\(marker)' line", start, bodyStart)
            pos = bytes.count
            return .invalid(range(start, pos))
        }
        // Parse the body as a template, bounded by the closing line.
        let savedLimit = limit
        limit = end
        pos = bodyStart
        var parts = parseTemplateBody()
        limit = abandoned ? 0 : savedLimit
        if indented { parts = Self.dedent(parts) }
        pos = afterEnd
        return .template(HCLTemplate(parts: parts, isHeredoc: true), range(start, pos))
    }

    mutating func parseBareTemplate() -> HCLExpression {
        template(parseTemplateBody(), start: 0)
    }

    /// Template text up to `limit` where backslashes are plain (heredocs, JSON-syntax strings).
    mutating func parseTemplateBody() -> [HCLTemplatePart] {
        var builder = TemplateBuilder()
        var stack: [Frame] = []
        while !atEnd {
            let byte = bytes[pos]
            if byte == Byte.dollar || byte == Byte.percent {
                if parseTemplateMarker(into: &builder, stack: &stack, quoted: false) { continue }
                builder.appendByte(byte)
                pos += 1
            }
            // The text up to the next possible marker, in one piece.
            var end = pos
            while end < limit && bytes[end] != Byte.dollar && bytes[end] != Byte.percent { end += 1 }
            builder.append(contentsOf: bytes[pos..<end])
            pos = end
        }
        reportUnterminated(stack)
        return builder.finished()
    }

    /// `<<-` strips the smallest indentation of the body's lines from every line.
    static func dedent(_ parts: [HCLTemplatePart]) -> [HCLTemplatePart] {
        let plain = parts.allSatisfy { part in
            guard case .literal(let text) = part else { return true }
            return text.utf8.allSatisfy { $0 < 0x80 && $0 != Byte.cr }
        }
        return plain ? dedentASCII(parts) : dedentCharacters(parts)
    }

    /// `dedent` for ASCII text without carriage returns, where bytes and characters are the same:
    /// byte loops instead of character splitting and trimming.
    static func dedentASCII(_ parts: [HCLTemplatePart]) -> [HCLTemplatePart] {
        var indent = Int.max
        var atLineStart = true
        for part in parts {
            guard case .literal(let text) = part else {
                atLineStart = false
                continue
            }
            var first = atLineStart, leading = 0, blank = true
            for byte in text.utf8 {
                if byte == Byte.newline {
                    if first && !blank { indent = min(indent, leading) }
                    first = true
                    leading = 0
                    blank = true
                } else if blank && (byte == Byte.space || byte == Byte.tab) {
                    leading += 1
                } else {
                    blank = false
                }
            }
            if first && !blank { indent = min(indent, leading) }
            atLineStart = text.utf8.last == Byte.newline
        }
        guard indent > 0 && indent != Int.max else { return parts }
        return mapLiterals(parts) { text, atLineStart in
            var out: [UInt8] = []
            out.reserveCapacity(text.utf8.count)
            var strip = atLineStart ? indent : 0
            for byte in text.utf8 {
                if byte == Byte.newline {
                    out.append(byte)
                    strip = indent
                } else if strip > 0 && (byte == Byte.space || byte == Byte.tab) {
                    strip -= 1
                } else {
                    strip = 0
                    out.append(byte)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Rewrites each literal part, told whether the part begins a line; other parts stay.
    static func mapLiterals(_ parts: [HCLTemplatePart], _ transform: (String, Bool) -> String) -> [HCLTemplatePart] {
        var atLineStart = true
        return parts.map { part in
            guard case .literal(let text) = part else {
                atLineStart = false
                return part
            }
            defer { atLineStart = text.hasSuffix("\n") }
            return .literal(transform(text, atLineStart))
        }
    }

    static func dedentCharacters(_ parts: [HCLTemplatePart]) -> [HCLTemplatePart] {
        var lines: [Substring] = []
        var atLineStart = true
        for part in parts {
            if case .literal(let text) = part {
                for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    if index > 0 || atLineStart { lines.append(line) }
                }
                atLineStart = text.hasSuffix("\n")
            } else {
                atLineStart = false
            }
        }
        let indent = lines.filter { !$0.trimmingCharacters(in: [" ", "\t"]).isEmpty }
            .map { $0.prefix { $0 == " " || $0 == "\t" }.count }.min() ?? 0
        guard indent > 0 else { return parts }
        return mapLiterals(parts) { text, atLineStart in
            text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { index, line -> String in
                (index > 0 || atLineStart) ? String(line.dropFirst(min(indent, line.prefix { $0 == " " || $0 == "\t" }.count))) : String(line)
            }.joined(separator: "\n")
        }
    }
}

/// Accumulates template parts, merging adjacent literal text and applying `~` strip markers.
struct TemplateBuilder {
    var parts: [HCLTemplatePart] = []
    var pending: [UInt8] = []
    var stripNextLeading = false

    mutating func appendByte(_ byte: UInt8) {
        if stripNextLeading {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { return }
            stripNextLeading = false
        }
        pending.append(byte)
    }

    mutating func append(contentsOf text: ArraySlice<UInt8>) {
        var rest = text
        while stripNextLeading, let first = rest.first {
            appendByte(first)
            rest = rest.dropFirst()
        }
        pending.append(contentsOf: rest)
    }

    mutating func appendText(_ text: String) {
        for byte in text.utf8 { appendByte(byte) }
    }

    mutating func flush() {
        guard !pending.isEmpty else { return }
        parts.append(.literal(String(decoding: pending, as: UTF8.self)))
        pending = []
    }

    mutating func stripTrailing() {
        while let last = pending.last, last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D { pending.removeLast() }
        if pending.isEmpty, case .literal(let text)? = parts.last {
            parts.removeLast()
            var trimmed = Substring(text)
            while let last = trimmed.last, last.isWhitespace { trimmed = trimmed.dropLast() }
            if !trimmed.isEmpty { parts.append(.literal(String(trimmed))) }
        }
    }

    mutating func append(_ part: HCLTemplatePart, stripBefore: Bool, stripAfter: Bool) {
        if stripBefore { stripTrailing() }
        flush()
        parts.append(part)
        stripNextLeading = stripAfter
    }

    func finished() -> [HCLTemplatePart] {
        var copy = self
        copy.flush()
        return copy.parts
    }
}
