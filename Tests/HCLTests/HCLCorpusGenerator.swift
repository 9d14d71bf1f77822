import Foundation

/// Writes HCL files at random from a seed, the same files for the same seed on every machine.
///
/// Files are meant to be valid (bodies, blocks of every shape, and every kind of expression,
/// heredocs and splat chains wherever an expression may stand); `mutated` then breaks some of them
/// by one edit. Whether a file is valid is never decided here: Terraform decides, in the
/// differential test.
struct HCLCorpusGenerator {
    /// SplitMix64: small, fast and the same everywhere (the standard library's generator is not seedable).
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    var random: Random
    /// Heredoc markers in use by enclosing heredocs, so a nested one never closes an outer one early.
    var markers: [String] = []
    var heredocCount = 0

    init(seed: UInt64) { random = Random(state: seed) }

    static let names = ["a", "b", "name", "tags", "count", "for_each", "vpc_id", "cidr-block", "_x", "value2"]
    static let variables = ["var.a", "local.b", "each.value", "each.key", "count.index", "aws_instance.web", "module.m.out", "x", "data.aws_iam_policy_document.p"]
    static let functions = ["length", "concat", "merge", "lookup", "coalesce", "format", "jsonencode", "templatefile", "cidrsubnet", "try", "flatten", "keys"]

    // MARK: - Files

    /// A whole file: attributes and blocks at the top level.
    mutating func file() -> String {
        markers = []
        var out = ""
        var used: Set<String> = []
        for _ in 0..<(1 + random.below(5)) {
            if random.chance(30) {
                out += attribute(indent: "", used: &used) + "\n"
            } else {
                out += block(indent: "", depth: 0) + "\n"
            }
            if random.chance(15) { out += random.pick(["# note\n", "// note\n", "/* note */\n", "\n"]) }
        }
        return out
    }

    mutating func attributeName(_ used: inout Set<String>) -> String {
        var name = random.pick(Self.names)
        var suffix = 2
        while used.contains(name) {
            name = "\(random.pick(Self.names))\(suffix)"
            suffix += 1
        }
        used.insert(name)
        return name
    }

    mutating func attribute(indent: String, used: inout Set<String>) -> String {
        let name = attributeName(&used)
        return "\(indent)\(name) = \(expression(depth: 0, indent: indent, multiline: false))"
    }

    mutating func block(indent: String, depth: Int) -> String {
        let type = random.pick(["resource", "data", "module", "locals", "variable", "output", "provider", "dynamic", "ingress", "lifecycle", "content", "statement"])
        var header = indent + type
        switch type {
        case "resource", "data": header += " \"aws_\(random.pick(["instance", "s3_bucket", "iam_role"]))\" \"\(random.pick(["this", "web", "main"]))\""
        case "module", "variable", "output", "provider", "dynamic": header += " \"\(random.pick(["vpc", "name", "aws", "setting"]))\""
        default: if random.chance(15) { header += " " + random.pick(["x", "\"y\""]) }
        }
        let inner = indent + "  "
        // A single-line block: one attribute, or nothing.
        if random.chance(12) {
            if random.chance(30) { return header + " {}" }
            var used: Set<String> = []
            return header + " { " + attribute(indent: "", used: &used).trimmingCharacters(in: .whitespaces) + " }"
        }
        var used: Set<String> = []
        var lines: [String] = []
        if type == "dynamic" {
            lines.append("\(inner)for_each = \(expression(depth: 1, indent: inner, multiline: false))")
            if random.chance(40) { lines.append("\(inner)iterator = it") }
            lines.append("\(inner)content {\n\(inner)  v = \(expression(depth: 1, indent: inner + "  ", multiline: false))\n\(inner)}")
        } else {
            for _ in 0..<random.below(5) {
                if depth < 3 && random.chance(25) {
                    lines.append(block(indent: inner, depth: depth + 1))
                } else {
                    lines.append(attribute(indent: inner, used: &used))
                }
            }
        }
        return header + " {\n" + lines.map { $0 + "\n" }.joined() + indent + "}"
    }

    // MARK: - Expressions

    /// An expression. `multiline` says newlines may stand between its tokens (inside brackets),
    /// where a heredoc may be followed by more of the expression on its closing line's next line.
    mutating func expression(depth: Int, indent: String, multiline: Bool) -> String {
        if depth > 4 { return primary(depth: depth, indent: indent, multiline: multiline) }
        switch random.below(12) {
        case 0: return "\(operand(depth, indent, multiline)) \(random.pick(["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||"])) \(operand(depth, indent, multiline))"
        case 1: return "\(operand(depth, indent, multiline)) ? \(operand(depth, indent, multiline)) : \(operand(depth, indent, multiline))"
        case 2: return "\(random.pick(["!", "-"]))\(operand(depth, indent, multiline))"
        default: return primary(depth: depth, indent: indent, multiline: multiline)
        }
    }

    /// An operand of an operator: no heredoc unless newlines are free here (its closing line ends the
    /// line, and at the top level nothing may follow it there).
    mutating func operand(_ depth: Int, _ indent: String, _ multiline: Bool) -> String {
        var text = primary(depth: depth + 1, indent: indent, multiline: multiline)
        if !multiline && text.hasPrefix("<<") { text = "\"h\"" }
        return text
    }

    mutating func primary(depth: Int, indent: String, multiline: Bool) -> String {
        let deep = depth > 3
        switch random.below(deep ? 4 : 16) {
        case 0: return number()
        case 1: return quoted(depth: depth)
        case 2: return random.pick(["true", "false", "null"])
        case 3: return traversal(depth: depth)
        case 4: return tuple(depth: depth, indent: indent)
        case 5: return object(depth: depth, indent: indent)
        case 6: return call(depth: depth, indent: indent)
        case 7: return forExpression(depth: depth, indent: indent)
        case 8: return heredoc(depth: depth, indent: indent)
        case 9: return "(\(expression(depth: depth + 1, indent: indent, multiline: true)))"
        case 10: return quoted(depth: depth, template: true)
        case 11: return traversal(depth: depth) + random.pick(["[*]", ".*", "[0]", "[*].id", ""])
        case 12: return "templatefile(\"${path.module}/\(random.pick(["a", "b"])).tpl\", \(object(depth: depth, indent: indent)))"
        case 13: return call(depth: depth, indent: indent) + random.pick(["[0]", ".id", "[*].arn", ""])
        default: return traversal(depth: depth)
        }
    }

    mutating func number() -> String {
        random.pick(["0", "1", "42", "3.14", "1e3", "2.5E-2", "007", "1000000", "0.5"])
    }

    /// A variable with a chain of attribute, index, legacy index and splat steps.
    mutating func traversal(depth: Int) -> String {
        var text = random.pick(Self.variables)
        var attributeOnlySplat = false
        for _ in 0..<random.below(5) {
            switch random.below(8) {
            case 0: text += "." + random.pick(["id", "arn", "name", "tags", "b-c"])
            case 1: text += "[\(random.pick(["0", "1", "\"k\"", "count.index", "each.key"]))]"; attributeOnlySplat = false
            case 2: text += "." + random.pick(["0", "1", "12"]) + random.pick(["", ".id", "[0]"])
            case 3: text += "[*]"; attributeOnlySplat = false
            case 4:
                // `.*` may not stand inside an attribute-only splat; now and then it does, for the invalid side.
                if !attributeOnlySplat || random.chance(10) { text += ".*" }
                attributeOnlySplat = true
            case 5: text += random.pick([" .name", "[ * ]", ". id", " [0]"])
            case 6: text += "[\(expression(depth: depth + 2, indent: "", multiline: true))]"; attributeOnlySplat = false
            default: text += ".id"
            }
        }
        return text
    }

    mutating func tuple(depth: Int, indent: String) -> String {
        let count = random.below(4)
        let items = (0..<count).map { _ in expression(depth: depth + 1, indent: indent + "  ", multiline: true) }
        let trailing = count > 0 && random.chance(30) ? "," : ""
        if random.chance(40) || items.contains(where: { $0.hasPrefix("<<") }) {
            // One item a line; a heredoc's closing marker ends its line, so a comma goes on the next.
            return "[\n" + items.map { indent + "  " + $0 + ($0.hasPrefix("<<") ? "\n" + indent + "  ," : ",") + "\n" }.joined() + indent + "]"
        }
        return "[" + items.joined(separator: ", ") + trailing + "]"
    }

    mutating func objectKey() -> String {
        random.pick(["k", "\"quoted key\"", "(var.key)", "name", "\"${var.p}-x\"", "for_x", "if"])
    }

    mutating func object(depth: Int, indent: String) -> String {
        let count = random.below(4)
        var keys: [String] = []
        for _ in 0..<count { keys.append(objectKey()) }
        if random.chance(50) {
            // Items separated by newlines, some with commas; a heredoc value's closing line is the separator.
            return "{\n" + keys.map { key in
                let value = expression(depth: depth + 1, indent: indent + "  ", multiline: false)
                let separator = value.hasPrefix("<<") ? "" : (random.chance(30) ? "," : "")
                return indent + "  " + key + random.pick([" = ", ": "]) + value + separator + "\n"
            }.joined() + indent + "}"
        }
        let items = keys.map { key -> String in
            var value = expression(depth: depth + 1, indent: indent, multiline: false)
            if value.contains("\n") { value = "\"v\"" }
            return key + random.pick([" = ", ": ", "="]) + value
        }
        return "{" + items.joined(separator: ", ") + (count > 0 && random.chance(25) ? "," : "") + "}"
    }

    mutating func call(depth: Int, indent: String) -> String {
        let count = random.below(4)
        let arguments = (0..<count).map { _ in expression(depth: depth + 1, indent: indent + "  ", multiline: true) }
        let expand = count > 0 && random.chance(15) ? "..." : ""
        let name = random.pick(Self.functions)
        if arguments.contains(where: { $0.hasPrefix("<<") }) || random.chance(25) {
            return name + "(\n" + arguments.enumerated().map { index, argument in
                indent + "  " + argument + (argument.hasPrefix("<<") ? "\n" + indent + "  " : "") + (index == count - 1 ? expand : ",") + "\n"
            }.joined() + indent + ")"
        }
        return name + "(" + arguments.joined(separator: ", ") + expand + ")"
    }

    mutating func forExpression(depth: Int, indent: String) -> String {
        let variables = random.pick(["x", "k, v", "i, item"])
        let collection = random.pick(Self.variables) + random.pick(["", "[*].id", ".*.name", "[*].b[*].c"])
        let condition = random.chance(30) ? " if \(random.pick(["x != null", "v.enabled", "length(k) > 1"]))" : ""
        let value = expression(depth: depth + 1, indent: indent + "  ", multiline: true)
        // A heredoc value ends its line, so what follows it goes on the next line.
        let afterValue = value.hasPrefix("<<") ? "\n" + indent : ""
        if random.chance(50) {
            return "[for \(variables) in \(collection) : \(value)\(afterValue)\(condition)]"
        }
        let grouping = random.chance(15) ? "..." : ""
        return "{ for \(variables) in \(collection) : \(random.pick(["k", "x", "\"${i}\"", "upper(k)"])) => \(value)\(afterValue)\(grouping)\(condition) }"
    }

    // MARK: - Templates

    mutating func quoted(depth: Int, template: Bool = false) -> String {
        if !template {
            return "\"" + random.pick(["", "plain", "with \\\"quotes\\\"", "tab\\tnew\\nline", "\\u00e9t\\u00E9", "dollar $ and % sign", "$${literal}", "%%{ not a directive }", "back\\\\slash"]) + "\""
        }
        return "\"" + templateBody(depth: depth, inHeredoc: false) + "\""
    }

    /// Template text with interpolations and directives (and strip markers), balanced.
    mutating func templateBody(depth: Int, inHeredoc: Bool) -> String {
        var out = ""
        for _ in 0..<(1 + random.below(4)) {
            let strip = { (random: inout Random) in random.chance(25) ? "~" : "" }
            switch random.below(6) {
            case 0: out += random.pick(["text ", "a-b", " ", "x=", "$ ", "% "])
            case 1: out += "${\(strip(&random))\(interpolated(depth))\(strip(&random))}"
            case 2:
                out += "%{\(strip(&random)) if \(interpolated(depth)) \(strip(&random))}" + (depth < 3 ? templateBody(depth: depth + 1, inHeredoc: inHeredoc) : "y")
                if random.chance(40) { out += "%{\(strip(&random)) else \(strip(&random))}n" }
                out += "%{\(strip(&random)) endif \(strip(&random))}"
            case 3:
                out += "%{\(strip(&random)) for \(random.pick(["x", "k, v"])) in \(random.pick(Self.variables)) \(strip(&random))}"
                    + (depth < 3 ? templateBody(depth: depth + 1, inHeredoc: inHeredoc) : "${x}") + "%{\(strip(&random)) endfor \(strip(&random))}"
            case 4: out += inHeredoc ? random.pick(["\n", "line\n", "\"quoted\"\n"]) : random.pick(["\\n", "\\\"", "$${x}"])
            default: out += "${\(random.pick(Self.variables))[*].id}"
            }
        }
        return out
    }

    mutating func interpolated(_ depth: Int) -> String {
        switch random.below(6) {
        case 0: return traversal(depth: depth + 2)
        case 1: return "\(random.pick(Self.variables)) == \"x\""
        case 2: return call(depth: 4, indent: "")
        case 3: return "\"inner ${x}\""
        case 4: return "x ? 1 : 2"
        default: return random.pick(Self.variables)
        }
    }

    mutating func heredoc(depth: Int, indent: String) -> String {
        heredocCount += 1
        var marker = random.pick(["EOT", "EOF", "POLICY", "END_\(heredocCount % 7)"])
        while markers.contains(marker) { marker += "X" }
        markers.append(marker)
        defer { markers.removeLast() }
        let indented = random.chance(50)
        let pad = indented ? indent + "  " : ""
        var body = ""
        for _ in 0..<(1 + random.below(3)) {
            switch random.below(4) {
            case 0: body += pad + "{\n\(pad)  \"Effect\": \"Allow\",\n\(pad)  \"Resource\": \"${\(random.pick(Self.variables))}\"\n\(pad)}\n"
            case 1: body += pad + templateBody(depth: depth + 1, inHeredoc: true).replacingOccurrences(of: "\n", with: "\n" + pad) + "\n"
            case 2: body += pad + "line with $${escaped} and %%{escaped}\n"
            default: body += pad + random.pick(["#!/bin/bash", "echo hello", "", "  nested indent"]) + "\n"
            }
        }
        let closing = indented ? indent + random.pick(["", "  "]) + marker : marker
        // The closing marker must end its line, so whatever follows goes on the next one.
        return "<<\(indented ? "-" : "")\(marker)\n\(body)\(closing)\n" + indent
    }

    // MARK: - Literal files

    /// A file of literal values only (like a `.tfvars` file, with some blocks): every attribute has a
    /// value that python-hcl2 and tollgate can both state, for comparing values rather than verdicts.
    mutating func literalFile() -> String {
        var out = ""
        var used: Set<String> = []
        for _ in 0..<(2 + random.below(6)) {
            if random.chance(25) {
                var inner: Set<String> = []
                out += "settings \"\(random.pick(["a", "b", "c"]))\" {\n"
                for _ in 0..<(1 + random.below(3)) { out += "  \(attributeName(&inner)) = \(literal(depth: 1))\n" }
                out += "}\n"
            } else {
                out += "\(attributeName(&used)) = \(literal(depth: 0))\n"
            }
        }
        return out
    }

    mutating func literal(depth: Int) -> String {
        switch random.below(depth > 2 ? 4 : 7) {
        case 0: return random.pick(["0", "1", "42", "3.5", "1e3", "-7", "0.25", "1000000"])
        case 1: return quoted(depth: 0)
        case 2: return random.pick(["true", "false", "null"])
        case 3: return "\"" + random.pick(["us-east-1", "10.0.0.0/16", "a b c", "\\\\server", "caf\\u00e9"]) + "\""
        case 4: return "[" + (0..<random.below(4)).map { _ in literal(depth: depth + 1) }.joined(separator: ", ") + "]"
        case 5:
            var keys: Set<String> = []
            return "{\n" + (0..<random.below(4)).map { _ in "  \(attributeName(&keys)) = \(literal(depth: depth + 1))\n" }.joined() + "}"
        default:
            return "{ " + (0..<(1 + random.below(3))).map { index in "k\(index) = \(literal(depth: depth + 1))" }.joined(separator: ", ") + " }"
        }
    }

    // MARK: - Mutations

    /// `text` with one random edit: a byte deleted, inserted or doubled, or a line dropped or doubled.
    mutating func mutated(_ text: String) -> String {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return "=" }
        let at = random.below(bytes.count)
        switch random.below(6) {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(contentsOf: Array(random.pick(["{", "}", "[", "]", "(", ")", "\"", "=", ",", ".", "*", "${", "%{", "<<", ":", "?", "\n", "~", "#", "...", "=>", "[*]", ".*"]).utf8), at: at)
        case 2: bytes.insert(bytes[at], at: at)
        case 3:
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            lines.remove(at: random.below(lines.count))
            return lines.joined(separator: "\n")
        case 4:
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let line = random.below(lines.count)
            lines.insert(lines[line], at: line)
            return lines.joined(separator: "\n")
        default:
            let other = random.below(bytes.count)
            bytes.swapAt(at, other)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
