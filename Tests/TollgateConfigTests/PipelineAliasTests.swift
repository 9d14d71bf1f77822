import Testing
import TollgateConfig
import TollgateCore

/// Aliases that expand a pipeline file past `PipelineLoader.maxValues` are one located diagnostic,
/// found before any tree is built, instead of a load that never ends. The inputs are kept for the
/// pipeline fuzz target under fuzz/regressions/pipeline/.
@Suite struct PipelineAliasTests {
    func load(_ text: String) -> PipelineLoader.Result {
        PipelineLoader.parse(text, file: "tollgate.yaml", baseDirectory: "/repo")
    }

    /// Nine lines, each a list of ten aliases of the line before: 10^9 values once expanded. As
    /// mapping values (`a1: &a1 [*a0, …]`) or as mapping keys (`? &a1 [*a0, …]`), which Yams hashes.
    func laughs(asKeys: Bool) -> String {
        var lines = [asKeys ? "? &a0 [x, x, x, x, x, x, x, x, x, x]\n: 0" : "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...8 {
            let list = "&a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]"
            lines.append(asKeys ? "? \(list)\n: \(level)" : "a\(level): \(list)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func aliasesOfAliasesAsValuesGiveOneDiagnostic() {
        // Only what aliases add counts: a1's ten '*a0' add 110 values, a2's ten '*a1' 1,110 (1,220 in
        // all), and a3's eighth '*a2' (1,111 values each) passes 10,000.
        #expect(load(laughs(asKeys: false)).diagnostics == [
            Diagnostic(at: SourceLocation(file: "tollgate.yaml", line: 4, column: 45),
                       "aliases add more than 10000 values to the file once expanded",
                       hint: "a pipeline file needs a few hundred; write the value out instead of aliasing aliases"),
        ])
    }

    @Test func aliasesOfAliasesAsKeysGiveOneDiagnostic() {
        let result = load(laughs(asKeys: true))
        #expect(result.pipeline == nil)
        #expect(result.diagnostics.map(\.message) == ["aliases add more than 10000 values to the file once expanded"])
        #expect(result.diagnostics.first?.location == SourceLocation(file: "tollgate.yaml", line: 7, column: 43))
    }

    @Test func anAliasWithinTheLimitStillLoads() throws {
        let text = PipelineLoaderTests.valid
            .replacingOccurrences(of: "    backend:\n      type: local\n      settings:\n        path: ../state/{env}/{stack}.tfstate\n    gate: auto",
                                  with: "    backend: &local\n      type: local\n      settings:\n        path: ../state/{env}/{stack}.tfstate\n    gate: auto")
            .replacingOccurrences(of: "    backend:\n      type: local\n      settings:\n        path: ../state/{env}/{stack}.tfstate\n    gate:\n",
                                  with: "    backend: *local\n    gate:\n")
        #expect(text.contains("*local") && text.contains("&local"))
        let result = load(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let pipeline = try #require(result.validPipeline)
        #expect(pipeline.environments.map(\.backend) == Array(repeating: pipeline.environments[0].backend, count: 2))
    }

    /// Values written out are not what the limit is for: a pipeline of 12,000 stacks, 24,000 values
    /// and more, was refused as if its aliases had expanded it.
    @Test func aLargeFileWithoutAliasesLoads() throws {
        let stacks = (0..<12_000).map { "  - name: s\($0)\n" + ($0 == 0 ? "" : "    depends_on: [s\($0 - 1)]\n") }.joined()
        let text = PipelineLoaderTests.valid.replacingOccurrences(of: "stacks:\n", with: "stacks:\n" + stacks)
        #expect(text.count > 300_000)
        let result = load(text)
        #expect(result.diagnostics.filter { $0.severity == .error }.isEmpty, "\(result.diagnostics.prefix(3))")
        #expect(try #require(result.validPipeline).stacks.count >= 12_000)
    }
}
