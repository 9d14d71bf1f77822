import Foundation

/// Terraform's JSON syntax (`.tf.json`) read into the same tree as native syntax.
///
/// Block types and their label counts follow Terraform's configuration language; inside a body,
/// a known nested block type (lifecycle, provisioner, backend, …) becomes a block and every other
/// key an attribute. String values are HCL templates (`"${var.env == \"prod\" ? 1 : 0}"`); their
/// nodes carry the range of the JSON string they came from.
public enum HCLJSON {
    static let labelCounts: [String: Int] = [
        "resource": 2, "data": 2, "module": 1, "variable": 1, "output": 1, "provider": 1,
        "terraform": 0, "locals": 0, "moved": 0, "import": 0, "check": 1, "removed": 0,
    ]
    static let nestedBlocks: [String: Int] = [
        "lifecycle": 0, "provisioner": 1, "connection": 0, "dynamic": 1, "backend": 1, "cloud": 0,
        "required_providers": 0, "precondition": 0, "postcondition": 0, "content": 0,
    ]

    public static func parse(_ text: String) -> HCLFile { parse(bytes: Array(text.utf8)) }

    public static func parse(bytes: [UInt8]) -> HCLFile {
        var reader = JSONReader(bytes)
        var diagnostics: [HCLDiagnostic] = []
        let value = reader.value()
        reader.skipSpace()
        if let error = reader.failure {
            diagnostics.append(error)
        } else if !reader.atEnd {
            diagnostics.append(HCLDiagnostic("unexpected content after the JSON value", at: reader.range(reader.pos, reader.pos + 1)))
        }
        var body = HCLBody(items: [], range: reader.range(0, bytes.count))
        if case .object(let members, _)? = value {
            body.items = members.flatMap { key, keyRange, member in items(key, keyRange, member, topLevel: true, diagnostics: &diagnostics) }
        } else if value != nil {
            diagnostics.append(HCLDiagnostic("a .tf.json file must hold a JSON object", at: body.range))
        }
        return HCLFile(body: body, diagnostics: diagnostics, source: bytes)
    }

    static func items(_ key: String, _ keyRange: HCLRange, _ value: JSONNode, topLevel: Bool, diagnostics: inout [HCLDiagnostic]) -> [HCLBodyItem] {
        let labels = topLevel ? labelCounts[key] : nestedBlocks[key]
        guard let labels else {
            return [.attribute(HCLAttribute(name: key, nameRange: keyRange, value: expression(value), range: HCLRange(start: keyRange.start, end: value.range.end)))]
        }
        return blocks(type: key, typeRange: keyRange, labels: [], labelRanges: [], remaining: labels, value, diagnostics: &diagnostics).map { .block($0) }
    }

    static func blocks(type: String, typeRange: HCLRange, labels: [String], labelRanges: [HCLRange], remaining: Int, _ value: JSONNode, diagnostics: inout [HCLDiagnostic]) -> [HCLBlock] {
        switch value {
        case .array(let elements, _):
            return elements.flatMap { blocks(type: type, typeRange: typeRange, labels: labels, labelRanges: labelRanges, remaining: remaining, $0, diagnostics: &diagnostics) }
        case .object(let members, let range):
            if remaining > 0 {
                return members.flatMap { label, labelRange, inner in
                    blocks(type: type, typeRange: typeRange, labels: labels + [label], labelRanges: labelRanges + [labelRange], remaining: remaining - 1, inner, diagnostics: &diagnostics)
                }
            }
            let items = members.flatMap { key, keyRange, member in Self.items(key, keyRange, member, topLevel: false, diagnostics: &diagnostics) }
            return [HCLBlock(type: type, labels: labels, labelRanges: labelRanges, body: HCLBody(items: items, range: range), range: HCLRange(start: typeRange.start, end: range.end))]
        default:
            diagnostics.append(HCLDiagnostic("block '\(type)' must be a JSON object", at: value.range))
            return []
        }
    }

    /// `depth` counts the arrays and objects around `node`; a template inside starts from it, so
    /// the tree stays within `HCLParser.maxNesting` (a template too deep stays a plain string).
    static func expression(_ node: JSONNode, depth: Int = 0) -> HCLExpression {
        switch node {
        case .null(let range): return .literal(.null, range)
        case .bool(let flag, let range): return .literal(.bool(flag), range)
        case .number(let text, let range): return .literal(.number(text), range)
        case .string(let text, let range):
            // The string is an HCL template: parse it and give every node the JSON string's range.
            guard text.contains("${") || text.contains("%{") else { return .literal(.string(text), range) }
            let (value, diagnostics) = HCLParser.parseTemplate(text, nesting: depth)
            guard diagnostics.isEmpty else { return .literal(.string(text), range) }
            return relocate(unwrapTemplate(value), to: range)
        case .array(let items, let range): return .tuple(items.map { expression($0, depth: depth + 1) }, range)
        case .object(let members, let range):
            return .object(members.map { HCLObjectItem(key: .literal(.string($0.0), $0.1), value: expression($0.2, depth: depth + 1), usesEquals: false) }, range)
        }
    }

    /// `"${expr}"` alone is the expression itself, as in Terraform.
    static func unwrapTemplate(_ expression: HCLExpression) -> HCLExpression {
        if case .template(let template, _) = expression, template.parts.count == 1, case .interpolation(let inner, _, _) = template.parts[0] {
            return inner
        }
        return expression
    }

    static func relocate(_ expression: HCLExpression, to r: HCLRange) -> HCLExpression {
        func go(_ e: HCLExpression) -> HCLExpression { relocate(e, to: r) }
        func part(_ p: HCLTemplatePart) -> HCLTemplatePart {
            switch p {
            case .literal: p
            case .interpolation(let e, let a, let b): .interpolation(go(e), stripBefore: a, stripAfter: b)
            case .ifDirective(let c, let t, let f): .ifDirective(condition: go(c), then: t.map(part), else: f?.map(part))
            case .forDirective(let k, let v, let c, let body): .forDirective(key: k, value: v, collection: go(c), body: body.map(part))
            }
        }
        func clause(_ c: HCLForClause) -> HCLForClause {
            HCLForClause(keyVariable: c.keyVariable, valueVariable: c.valueVariable, collection: go(c.collection), condition: c.condition.map(go))
        }
        switch expression {
        case .literal(let l, _): return .literal(l, r)
        case .template(let t, _): return .template(HCLTemplate(parts: t.parts.map(part), isHeredoc: t.isHeredoc), r)
        case .variable(let n, _): return .variable(n, r)
        case .tuple(let items, _): return .tuple(items.map(go), r)
        case .object(let items, _): return .object(items.map { HCLObjectItem(key: go($0.key), value: go($0.value), usesEquals: $0.usesEquals) }, r)
        case .functionCall(let n, let args, let expand, _): return .functionCall(name: n, arguments: args.map(go), expandFinal: expand, r)
        case .getAttribute(let b, let n, _): return .getAttribute(go(b), n, r)
        case .index(let b, let i, _): return .index(go(b), go(i), r)
        case .splat(let b, let full, let steps, _):
            return .splat(go(b), full: full, traversal: steps.map { if case .index(let i) = $0 { .index(go(i)) } else { $0 } }, r)
        case .unary(let op, let e, _): return .unary(op, go(e), r)
        case .binary(let op, let a, let b, _): return .binary(op, go(a), go(b), r)
        case .conditional(let c, let t, let f, _): return .conditional(go(c), go(t), go(f), r)
        case .forTuple(let c, let v, _): return .forTuple(clause(c), value: go(v), r)
        case .forObject(let c, let k, let v, let g, _): return .forObject(clause(c), key: go(k), value: go(v), grouping: g, r)
        case .parenthesized(let e, _): return .parenthesized(go(e), r)
        case .invalid: return .invalid(r)
        }
    }
}

/// A JSON value with source ranges, object members in order.
indirect enum JSONNode {
    case null(HCLRange)
    case bool(Bool, HCLRange)
    case number(String, HCLRange)
    case string(String, HCLRange)
    case array([JSONNode], HCLRange)
    case object([(String, HCLRange, JSONNode)], HCLRange)

    var range: HCLRange {
        switch self {
        case .null(let r), .bool(_, let r), .number(_, let r), .string(_, let r), .array(_, let r), .object(_, let r): r
        }
    }
}

struct JSONReader {
    let bytes: [UInt8]
    var pos = 0
    var failure: HCLDiagnostic?
    var lineStarts: [Int] = [0]
    /// How many arrays and objects enclose the value being read, up to `HCLParser.maxNesting`.
    var depth = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        for (index, byte) in bytes.enumerated() where byte == 0x0A { lineStarts.append(index + 1) }
    }

    var atEnd: Bool { pos >= bytes.count }

    func position(_ offset: Int) -> HCLPosition {
        // Binary search for the line: a linear scan per node is quadratic on large files.
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        let line = low
        let column = bytes[lineStarts[line]..<min(offset, bytes.count)].filter { $0 & 0xC0 != 0x80 }.count + 1
        return HCLPosition(line: line + 1, column: column, offset: offset)
    }

    func range(_ start: Int, _ end: Int) -> HCLRange { HCLRange(start: position(start), end: position(max(start, min(end, bytes.count)))) }

    mutating func fail(_ message: String) -> JSONNode? {
        if failure == nil { failure = HCLDiagnostic(message, at: range(pos, pos + 1)) }
        return nil
    }

    mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    mutating func value() -> JSONNode? {
        skipSpace()
        guard pos < bytes.count else { return fail("expected a JSON value, found the end of the file") }
        let start = pos
        if bytes[pos] == UInt8(ascii: "{") || bytes[pos] == UInt8(ascii: "[") {
            depth += 1
            if depth > HCLParser.maxNesting { return fail("nested deeper than \(HCLParser.maxNesting)") }
        }
        defer { if bytes[start] == UInt8(ascii: "{") || bytes[start] == UInt8(ascii: "[") { depth -= 1 } }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var members: [(String, HCLRange, JSONNode)] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(members, range(start, pos))
            }
            while true {
                skipSpace()
                let keyStart = pos
                guard case .string(let key, _)? = stringValue() else { return fail("expected a quoted object key") }
                let keyRange = range(keyStart, pos)
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { return fail("expected ':' after the key '\(key)'") }
                pos += 1
                guard let member = value() else { return nil }
                members.append((key, keyRange, member))
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; break }
                return fail("expected ',' or '}' in the object opened at \(position(start))")
            }
            return .object(members, range(start, pos))
        case UInt8(ascii: "["):
            pos += 1
            var items: [JSONNode] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items, range(start, pos))
            }
            while true {
                guard let item = value() else { return nil }
                items.append(item)
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; break }
                return fail("expected ',' or ']' in the array opened at \(position(start))")
            }
            return .array(items, range(start, pos))
        case UInt8(ascii: "\""):
            return stringValue()
        default:
            while pos < bytes.count, !([0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[pos])) { pos += 1 }
            let word = String(decoding: bytes[start..<pos], as: UTF8.self)
            switch word {
            case "true": return .bool(true, range(start, pos))
            case "false": return .bool(false, range(start, pos))
            case "null": return .null(range(start, pos))
            default:
                if Double(word) != nil { return .number(word, range(start, pos)) }
                pos = start
                return fail("'\(word)' is not a JSON value")
            }
        }
    }

    mutating func stringValue() -> JSONNode? {
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { return fail("expected a string") }
        let start = pos
        pos += 1
        while pos < bytes.count, bytes[pos] != UInt8(ascii: "\"") {
            if bytes[pos] == UInt8(ascii: "\\") { pos += 1 }
            pos += 1
        }
        guard pos < bytes.count else {
            pos = start
            return fail("unterminated string")
        }
        pos += 1
        let raw = Data(bytes[start..<pos])
        guard let text = try? JSONDecoder().decode(String.self, from: raw) else {
            pos = start
            return fail("invalid string escape")
        }
        return .string(text, range(start, pos))
    }
}
