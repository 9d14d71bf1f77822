import HCL
import TestSupport
import Testing

/// Nesting past `HCLParser.maxNesting` is a diagnostic, never a stack overflow.
@Suite struct NestingLimitTests {
    func parse(_ construct: String, depth: Int) -> HCLFile {
        let text = DeepNesting.text(construct, depth: depth)
        return construct == "json" ? HCLJSON.parse(text) : HCLParser.parse(text)
    }

    @Test func limitIsDocumentedValue() {
        #expect(HCLParser.maxNesting == 128)
    }

    @Test(arguments: DeepNesting.constructs)
    func thousandLevelsGiveOneDiagnostic(construct: String) throws {
        let file = parse(construct, depth: 1_000)
        #expect(file.diagnostics.map(\.message) == ["nested deeper than 128"], "\(construct): \(file.diagnostics.prefix(3))")
        let first = try #require(file.diagnostics.first)
        #expect(first.range.start.line >= 1 && first.range.start.column >= 1)
    }

    @Test(arguments: DeepNesting.constructs)
    func justUnderTheLimitParsesCleanly(construct: String) {
        let file = parse(construct, depth: 120)
        #expect(file.diagnostics.isEmpty, "\(construct): \(file.diagnostics.prefix(3))")
        #expect(!file.body.items.isEmpty)
    }

    @Test func diagnosticPointsAtTheFirstLevelTooDeep() throws {
        let file = HCLParser.parse(DeepNesting.text("tuples", depth: 1_000))
        let first = try #require(file.diagnostics.first)
        // The `locals` block is level 1 and its attribute's value (the first '[', column 7) level 2,
        // so the 128th '[' opens level 129.
        #expect(first.range.start.line == 2)
        #expect(first.range.start.column == 7 + 127)
    }

    /// The innermost value under `arrays` JSON arrays holding a template nested `levels` deep.
    func innermost(arrays: Int, levels: Int) throws -> HCLExpression {
        let template = String(repeating: "${\\\"", count: levels) + "x" + String(repeating: "\\\"}", count: levels)
        let text = "{\"locals\": {\"v\": \(String(repeating: "[", count: arrays))\"\(template)\"\(String(repeating: "]", count: arrays))}}"
        let file = HCLJSON.parse(text)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics)")
        guard case .block(let locals)? = file.body.items.first, case .attribute(let attribute)? = locals.body.items.first else {
            throw TestSupportError("no locals attribute in \(file.body)")
        }
        var value = attribute.value
        while case .tuple(let items, _) = value, let first = items.first { value = first }
        return value
    }

    @Test func jsonTemplateCountsTheEnclosingArrays() throws {
        // Alone, a template 20 deep is an expression; inside 120 arrays it would pass the limit,
        // so it stays the plain string it is in JSON.
        if case .literal(.string, _) = try innermost(arrays: 2, levels: 20) { Issue.record("a shallow template was not parsed") }
        guard case .literal(.string, _) = try innermost(arrays: 120, levels: 20) else {
            Issue.record("a template past the limit was parsed")
            return
        }
    }
}
