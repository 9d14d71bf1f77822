import Foundation
import HCL
import TestSupport
import Testing

/// Inputs the parser once got wrong, each checked against the tree or the diagnostic it must give.
@Suite struct HCLRegressionTests {
    func value(_ source: String, _ name: String = "x") throws -> HCLExpression {
        let file = HCLParser.parse(source)
        #expect(file.diagnostics.isEmpty, "\(source): \(file.diagnostics)")
        return try #require(file.body.attribute(name)?.value)
    }

    func diagnostics(_ source: String) -> [String] {
        HCLParser.parse(source).diagnostics.map { "\($0.range.start): \($0.message)" }
    }

    // MARK: Heredocs inside brackets, braces and argument lists

    @Test func heredocInsideTupleCallObjectAndFor() throws {
        guard case .tuple(let items, _) = try value("x = [<<EOT\none\nEOT\n, \"two\"]\n") else { throw TestSupportError("not a tuple") }
        #expect(items.map(\.literalValue) == [.string("one\n"), .string("two")])

        guard case .functionCall("jsonencode", let arguments, false, _) = try value("x = jsonencode(<<-EOT\n    {\"a\": 1}\n  EOT\n)\n") else {
            throw TestSupportError("not a call")
        }
        #expect(arguments.map(\.literalValue) == [.string("{\"a\": 1}\n")])

        let object = try value("x = {\n  policy = <<-POLICY\n    allow\n  POLICY\n  name = \"n\"\n}\n")
        #expect(object.literalValue == .object([("policy", .string("allow\n")), ("name", .string("n"))]))

        guard case .forTuple(_, let body, _) = try value("x = [for s in l : <<EOT\n${s}\nEOT\n]\n"), case .template(let template, _) = body else {
            throw TestSupportError("not a for expression over a heredoc")
        }
        #expect(template.isHeredoc)
        #expect(template.parts.count == 2)
    }

    @Test func heredocClosingLineMustHoldOnlyItsMarker() {
        // `EOT]` is not the closing line, so the heredoc runs to the end of the file, as in Terraform.
        #expect(diagnostics("x = [<<EOT\none\nEOT]\n") == ["1:6: unterminated heredoc: '<<EOT' has no closing 'EOT' line"])
    }

    // MARK: Splats

    @Test func fullSplatsChain() throws {
        #expect(try value("x = a[*].b[*].c\n") == .splat(.variable("a", range(0, 1)), full: true,
                                                       traversal: [.attribute("b"), .splat(full: true), .attribute("c")], range(0, 11)))
        guard case .splat(_, true, let steps, _) = try value("x = a[*][0].b[*].*.c\n") else { throw TestSupportError("not a full splat") }
        #expect(steps == [.index(.literal(.number("0"), range(5, 6))), .attribute("b"), .splat(full: true), .splat(full: false), .attribute("c")])
        guard case .splat(_, true, let more, _) = try value("x = a[*].b[0].c\n") else { throw TestSupportError("not a full splat") }
        #expect(more == [.attribute("b"), .index(.literal(.number("0"), range(7, 8))), .attribute("c")])
    }

    @Test func attributeSplatEndsAtAnIndex() throws {
        // `a.*.b[0]` indexes the list `a.*.b`; a new splat may follow.
        guard case .index(.splat(.variable("a", _), false, let steps, _), _, _) = try value("x = a.*.b[0]\n") else { throw TestSupportError("not an index of a splat") }
        #expect(steps == [.attribute("b")])
        guard case .splat(.splat(_, false, _, _), true, let outer, _) = try value("x = a.*.b[*].c\n") else { throw TestSupportError("not a splat of a splat") }
        #expect(outer == [.attribute("c")])
    }

    @Test func splatInsideAttributeOnlySplatIsOneError() {
        #expect(diagnostics("x = a.*.b.*.c\ny = 1\n") == ["1:10: a splat cannot be nested inside an attribute-only splat '.*'; write the outer splat as '[*]'"])
    }

    @Test func legacyIndexes() throws {
        guard case .index(.getAttribute(.index(.variable("a", _), .literal(.number("0"), _), _), "b", _), .literal(.number("1e2"), _), _) = try value("x = a.0.b.1e2\n") else {
            throw TestSupportError("not two legacy indexes")
        }
        // `0.1` is one number token, so `a.0.1` cannot mean two indexes.
        #expect(diagnostics("x = a.0.1\n") == ["1:6: legacy index '.0.1' chains two indexes, which HCL does not allow; write [0][1] instead"])
    }

    @Test func blanksBetweenTraversalSteps() throws {
        guard case .splat(_, true, let steps, _) = try value("x = a[ * ] .b\n") else { throw TestSupportError("not a splat") }
        #expect(steps == [.attribute("b")])
        guard case .tuple(let items, _) = try value("x = [a\n  [0]]\n"), case .index = items.first else { throw TestSupportError("no index across a newline in brackets") }
        #expect(diagnostics("x = a[*\n]\n").count == 1)
    }

    // MARK: Bodies and recovery

    @Test func singleLineBlocks() {
        #expect(diagnostics("a { b = 1 }\nc {}\n").isEmpty)
        #expect(diagnostics("a { b = 1, c = 2 }\nd = 1\n") == ["1:10: a single-line block ends right after its one attribute: put the '}' of 'a' after the value of 'b', or write each on a line of its own"])
        #expect(diagnostics("a { b {} }\n") == ["1:5: a single-line block holds one attribute, not the block 'b'; put the nested block on lines of its own"])
        #expect(diagnostics("a {\n  b = 1 }\n") == ["2:9: expected a newline after the value of 'b'"])
    }

    @Test func attributeSetTwice() {
        #expect(diagnostics("a {\n  b = 1\n  b = 2\n}\n") == ["3:3: attribute 'b' is already set at 2:3; each attribute may be set only once, so remove one of them"])
        #expect(diagnostics("a = { b = 1, b = 2 }\n").isEmpty)
    }

    @Test func oneMistakeOneDiagnostic() throws {
        let file = HCLParser.parse("a = [1 2,\n  3]\nb {\n  c = f(1 2)\n  d = 4\n}\ne = 5\n")
        #expect(file.diagnostics.map(\.range.start.description) == ["1:5", "4:11"], "\(file.diagnostics)")
        #expect(file.body.attribute("e")?.value.literalValue == .number("5"))
        #expect(file.body.blocks(ofType: "b").first?.body.attribute("d")?.value.literalValue == .number("4"))
    }

    // MARK: A module in the style of the common AWS modules

    @Test func awsStyleModuleParsesWithoutErrors() throws {
        let data = try TestPaths.fixture("hcl/modules/aws-service.tf")
        #expect(String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).count >= 300)
        let file = HCLParser.parse(bytes: Array(data))
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        #expect(file.body.blocks(ofType: "resource").count >= 15)
        let service = file.body.blocks(ofType: "resource").first { $0.labels == ["aws_ecs_service", "this"] }
        #expect(service?.body.blocks(ofType: "dynamic").first?.labels == ["load_balancer"])
    }

    func range(_ start: Int, _ end: Int) -> HCLRange {
        // Every expression checked here sits on line 1 after `x = ` (4 bytes).
        HCLRange(start: HCLPosition(line: 1, column: start + 5, offset: start + 4), end: HCLPosition(line: 1, column: end + 5, offset: end + 4))
    }
}
