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
        // Counted so far: the top mapping, a0 (11 values with its key), a1 (112), a2 (1,112); a3's key
        // and list make 1,239, and its eighth '*a2' (1,111 values each) passes 10,000.
        #expect(load(laughs(asKeys: false)).diagnostics == [
            Diagnostic(at: SourceLocation(file: "tollgate.yaml", line: 4, column: 45),
                       "aliases expand the file to more than 10000 values",
                       hint: "a pipeline file needs a few hundred; write the value out instead of aliasing aliases"),
        ])
    }

    @Test func aliasesOfAliasesAsKeysGiveOneDiagnostic() {
        let result = load(laughs(asKeys: true))
        #expect(result.pipeline == nil)
        #expect(result.diagnostics.map(\.message) == ["aliases expand the file to more than 10000 values"])
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
}
