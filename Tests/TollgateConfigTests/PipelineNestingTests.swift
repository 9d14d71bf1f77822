import Testing
import TollgateConfig
import TollgateCore

/// A pipeline file nested past `PipelineLoader.maxNesting` is one located diagnostic, not a crash.
@Suite struct PipelineNestingTests {
    func load(_ text: String) -> PipelineLoader.Result {
        PipelineLoader.parse(text, file: "tollgate.yaml", baseDirectory: "/repo")
    }

    func text(_ shape: String, depth n: Int) -> String {
        switch shape {
        case "flow lists": "environments: " + String(repeating: "[", count: n) + "x" + String(repeating: "]", count: n) + "\n"
        case "flow mappings": "environments: " + String(repeating: "{a: ", count: n) + "x" + String(repeating: "}", count: n) + "\n"
        default: "environments:\n" + (0..<n).map { String(repeating: " ", count: $0 * 2) + "-\n" }.joined() + String(repeating: " ", count: n * 2) + "x\n"
        }
    }

    @Test(arguments: ["flow lists", "flow mappings", "block lists"])
    func deepPipelineGivesOneDiagnostic(shape: String) throws {
        for depth in [200, 1_000, 2_000] {
            let result = load(text(shape, depth: depth))
            #expect(result.pipeline == nil)
            #expect(result.diagnostics.map(\.message) == ["nested deeper than 128"], "\(shape) \(depth): \(result.diagnostics)")
            let location = try #require(result.diagnostics.first?.location, "\(shape) \(depth)")
            #expect(location.file == "tollgate.yaml" && location.line >= 1)
        }
        let shallow = load(text(shape, depth: 100))
        #expect(!shallow.diagnostics.isEmpty)
        #expect(!shallow.diagnostics.contains { $0.message.contains("nested deeper") }, "\(shape): \(shallow.diagnostics)")
    }
}
