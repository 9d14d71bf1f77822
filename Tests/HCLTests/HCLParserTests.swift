import Foundation
import HCL
import TestSupport
import Testing

@Suite struct HCLCorpusTests {
    static let validFiles = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.fixtures + "/hcl/valid").sorted()) ?? []

    func parse(_ relative: String) throws -> HCLFile {
        HCLParser.parse(String(decoding: try TestPaths.fixture("hcl/" + relative), as: UTF8.self))
    }

    @Test func corpusIsPresent() {
        #expect(Self.validFiles.count >= 10)
    }

    @Test(arguments: validFiles) func validFileParsesCleanly(name: String) throws {
        let file = try parse("valid/" + name)
        #expect(file.diagnostics.isEmpty, "\(name): \(file.diagnostics)")
        #expect(!file.body.items.isEmpty)
    }

    @Test(arguments: [
        ("unterminated-string.tf", "unterminated string", 2, 8),
        ("unterminated-heredoc.tf", "unterminated heredoc: '<<EOT' has no closing 'EOT' line", 1, 8),
        ("unterminated-block.tf", "unclosed block 'resource'", 1, 18),
        ("unterminated-template.tf", "unterminated interpolation", 1, 10),
        ("unterminated-directive.tf", "unterminated '%{ if }' directive", 1, 10),
        ("missing-value.tf", "expected an expression", 1, 4),
        ("bad-escape.tf", "invalid escape '\\q'", 1, 10),
        ("unclosed-tuple.tf", "expected ',' or ']' in the tuple opened here", 1, 5),
    ])
    func invalidFileIsDiagnosedAtTheRightPlace(name: String, message: String, line: Int, column: Int) throws {
        let file = try parse("invalid/" + name)
        let first = try #require(file.diagnostics.first, "\(name) gave no diagnostic")
        #expect(first.message.contains(message), "\(name): \(file.diagnostics)")
        #expect(first.range.start.line == line, "\(name): \(first)")
        #expect(first.range.start.column == column, "\(name): \(first)")
    }

    @Test func parsingContinuesAfterAnError() throws {
        let file = try parse("invalid/unterminated-string.tf")
        #expect(file.body.attributes.map(\.name) == ["ok", "name", "next"])
        let missing = try parse("invalid/missing-value.tf")
        #expect(missing.body.attribute("b")?.value.literalValue == .number("2"))
    }
}

@Suite struct HCLGrammarTests {
    func value(_ source: String, _ name: String = "x") throws -> HCLExpression {
        let file = HCLParser.parse(source)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        return try #require(file.body.attribute(name)?.value)
    }

    /// A compact rendering of an expression tree, to compare shapes.
    func shape(_ expression: HCLExpression) -> String {
        switch expression {
        case .literal(let literal, _):
            switch literal {
            case .null: "null"
            case .bool(let flag): "\(flag)"
            case .number(let text): text
            case .string(let text): "'\(text)'"
            }
        case .template(let template, _): "tmpl(\(template.parts.count))"
        case .variable(let name, _): name
        case .tuple(let items, _): "[" + items.map(shape).joined(separator: ",") + "]"
        case .object(let items, _): "{" + items.map { "\(shape($0.key))\($0.usesEquals ? "=" : ":")\(shape($0.value))" }.joined(separator: ",") + "}"
        case .functionCall(let name, let arguments, let expand, _): "\(name)(" + arguments.map(shape).joined(separator: ",") + (expand ? "..." : "") + ")"
        case .getAttribute(let base, let name, _): "\(shape(base)).\(name)"
        case .index(let base, let index, _): "\(shape(base))[\(shape(index))]"
        case .splat(let base, let full, let steps, _):
            "\(shape(base))\(full ? "[*]" : ".*")" + steps.map { step in
                switch step {
                case .attribute(let name): ".\(name)"
                case .splat(let full): full ? "[*]" : ".*"
                case .index(let index): "[\(shape(index))]"
                }
            }.joined()
        case .unary(let op, let operand, _): "(\(op)\(shape(operand)))"
        case .binary(let op, let left, let right, _): "(\(shape(left)) \(op) \(shape(right)))"
        case .conditional(let c, let t, let f, _): "(\(shape(c)) ? \(shape(t)) : \(shape(f)))"
        case .forTuple(let clause, let value, _):
            "[for \(clause.keyVariable.map { "\($0)," } ?? "")\(clause.valueVariable) in \(shape(clause.collection)): \(shape(value))\(clause.condition.map { " if \(shape($0))" } ?? "")]"
        case .forObject(let clause, let key, let value, let grouping, _):
            "{for \(clause.keyVariable.map { "\($0)," } ?? "")\(clause.valueVariable) in \(shape(clause.collection)): \(shape(key)) => \(shape(value))\(grouping ? "..." : "")\(clause.condition.map { " if \(shape($0))" } ?? "")}"
        case .parenthesized(let inner, _): "(\(shape(inner)))"
        case .invalid: "<invalid>"
        }
    }

    @Test(arguments: [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("a || b && c", "(a || (b && c))"),
        ("a == b != c", "((a == b) != c)"),
        ("a < b == c > d", "((a < b) == (c > d))"),
        ("a <= b || c >= d", "((a <= b) || (c >= d))"),
        ("-a * b", "((-a) * b)"),
        ("!a && b", "((!a) && b)"),
        ("10 % 3 / 2", "((10 % 3) / 2)"),
        ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),
        ("a + b > c ? 1 : 2", "(((a + b) > c) ? 1 : 2)"),
        ("(1 + 2) * 3", "(((1 + 2)) * 3)"),
    ])
    func operatorsFollowPrecedenceAndAssociativity(source: String, expected: String) throws {
        #expect(shape(try value("x = \(source)\n")) == expected)
    }

    @Test(arguments: [
        ("var.list[0]", "var.list[0]"),
        ("var.list.0.name", "var.list[0].name"),
        ("aws_instance.web.*.id", "aws_instance.web.*.id"),
        ("aws_instance.web[*].nic[0].id", "aws_instance.web[*].nic[0].id"),
        ("var.map[\"k\"]", "var.map['k']"),
        ("f(a, b...)", "f(a,b...)"),
        ("provider::aws::arn_parse(x)", "provider::aws::arn_parse(x)"),
        ("[for s in l : upper(s)]", "[for s in l: upper(s)]"),
        ("[for i, v in l : v if i > 0]", "[for i,v in l: v if (i > 0)]"),
        ("{ for k, v in m : k => v }", "{for k,v in m: k => v}"),
        ("{ for s in l : s.zone => s... }", "{for s in l: s.zone => s...}"),
        ("{ a = 1, \"b\": 2, (k) = 3 }", "{a=1,'b':2,(k)=3}"),
        ("[\n  1,\n  2,\n]", "[1,2]"),
        ("{\n  a = 1\n  b = 2\n}", "{a=1,b=2}"),
        ("my-name", "my-name"),
    ])
    func termsAndTraversals(source: String, expected: String) throws {
        #expect(shape(try value("x = \(source)\n")) == expected)
    }

    @Test func templatesAndDirectives() throws {
        guard case .template(let template, _) = try value("x = \"a ${b} %{ if c }d%{ else }e%{ endif } %{ for k, v in m }${k}%{ endfor }\"\n") else {
            Issue.record("not a template")
            return
        }
        #expect(template.parts.count == 6)
        guard case .ifDirective(_, let thenParts, let elseParts) = template.parts[3] else {
            Issue.record("no if directive: \(template.parts)")
            return
        }
        #expect(thenParts == [.literal("d")])
        #expect(elseParts == [.literal("e")])
        guard case .forDirective(let key, let name, _, let body) = template.parts[5] else {
            Issue.record("no for directive")
            return
        }
        #expect(key == "k" && name == "v" && body.count == 1)
    }

    @Test func stripMarkersRemoveWhitespace() throws {
        guard case .template(let template, _) = try value("x = \"a  ${~ b ~}  c\"\n") else {
            Issue.record("not a template")
            return
        }
        #expect(template.parts.first == .literal("a"))
        #expect(template.parts.last == .literal("c"))
    }

    @Test func escapesAndLiteralMarkers() throws {
        #expect(try value("x = \"t\\tq\\\" \\u00e9 $${x} %%{y}\"\n").literalValue == .string("t\tq\" é ${x} %{y}"))
    }

    @Test func heredocs() throws {
        let file = HCLParser.parse("a = <<EOT\n  one\ntwo\nEOT\nb = <<-EOT\n    one\n      two\n    EOT\nc = 1\n")
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        #expect(file.body.attribute("a")?.value.literalValue == .string("  one\ntwo\n"))
        #expect(file.body.attribute("b")?.value.literalValue == .string("one\n  two\n"))
        #expect(file.body.attribute("c")?.value.literalValue == .number("1"))
    }

    @Test func blocksLabelsAndOneLineBlocks() throws {
        let file = HCLParser.parse("resource \"aws_s3_bucket\" logs {\n  bucket = \"x\"\n}\nlocals { a = 1 }\nempty {}\n")
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        let blocks = file.body.blocks
        #expect(blocks.map(\.type) == ["resource", "locals", "empty"])
        #expect(blocks[0].labels == ["aws_s3_bucket", "logs"])
        #expect(blocks[1].body.attribute("a")?.value.literalValue == .number("1"))
        #expect(blocks[0].labelRanges[1].start.column == 26)
    }

    @Test func rangesPointAtTheSourceAndPrintBack() throws {
        let source = "# header\nx = upper(var.name) # note\n"
        let file = HCLParser.parse(source)
        let attribute = try #require(file.body.attribute("x"))
        #expect(attribute.range.start == HCLPosition(line: 2, column: 1, offset: 9))
        #expect(attribute.value.range.start.column == 5)
        #expect(file.text(of: attribute.value.range) == "upper(var.name)")
        #expect(file.text(of: attribute.range) == "x = upper(var.name)")
        #expect(attribute.value.references.map(\.path) == ["var.name"])
    }

    @Test func positionsAcrossLinesAndNonASCIIText() throws {
        let source = "a = {\n  k = 1\n\n  m = 2\n}\nb = \"é\" + y\nc = [\n  1,\n]\n"
        let file = HCLParser.parse(source)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        #expect(file.body.attribute("a")?.value.range.description == "1:5-5:2")
        guard case .binary(_, _, let right, _)? = file.body.attribute("b")?.value else {
            Issue.record("b is not a binary expression")
            return
        }
        #expect(right.range.start == HCLPosition(line: 6, column: 11, offset: 36))
        #expect(file.body.attribute("c")?.range.description == "7:1-9:2")
    }

    @Test func indentedHeredocsWithNonASCIIText() throws {
        let file = HCLParser.parse("a = <<-EOT\n    é one\n\n      two ${x}  three\n    EOT\n")
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        guard case .template(let template, _)? = file.body.attribute("a")?.value else {
            Issue.record("a is not a template")
            return
        }
        #expect(template.parts.first == .literal("é one\n\n  two "))
        #expect(template.parts.last == .literal("  three\n"))
    }

    @Test func anUnclosedCommentIsReportedOnce() {
        let file = HCLParser.parse("x = 1 + 2 /* never closed")
        #expect(file.diagnostics.map(\.description) == ["1:11: unterminated comment: '/*' has no closing '*/'"])
    }

    @Test func literalValues() throws {
        let file = HCLParser.parse("a = [1, -2.5, \"s\", true, null, { k = \"v\" }]\nb = var.x\nc = \"${var.y}\"\n")
        #expect(file.body.attribute("a")?.value.literalValue
            == .tuple([.number("1"), .number("-2.5"), .string("s"), .bool(true), .null, .object([("k", .string("v"))])]))
        #expect(file.body.attribute("b")?.value.literalValue == nil)
        #expect(file.body.attribute("c")?.value.literalValue == nil)
    }

    @Test func garbageNeverCrashes() {
        let inputs = ["{{{{", "}}}}", "a = ((((", "x = \"${", "x = <<", "x = [for", "%{", "\"", "a b c d", "x = 1 +", "x = a ? b", "\u{0}\u{1}", "x = {a = }", "/* open"]
        for input in inputs {
            let file = HCLParser.parse(input)
            #expect(!file.diagnostics.isEmpty, "\(input) should be diagnosed")
        }
    }
}
