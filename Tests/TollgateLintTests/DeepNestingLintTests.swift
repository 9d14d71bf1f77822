import HCL
import TestSupport
import Testing
@testable import TollgateLint

/// The rules and the assessment walk the deepest trees the parsers let through without running
/// out of stack: files nested past the limit (cut at it) and files just under it.
@Suite struct DeepNestingLintTests {
    static func files(depth: Int) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for construct in DeepNesting.constructs {
            let text = Array(DeepNesting.text(construct, depth: depth).utf8)
            files["stacks/app/" + DeepNesting.fileName(construct)] = text
            for env in ["dev", "prod"] { files["envs/\(env)/" + DeepNesting.fileName(construct)] = text }
        }
        return files
    }

    @Test(arguments: [120, 1_000])
    func linterWalksTheDeepestTrees(depth: Int) {
        let input = LintInput(files: Self.files(depth: depth), stacks: [.init(name: "app", path: "stacks/app")], environments: ["dev", "prod"])
        let syntax = Linter(input: input).run().filter { $0.rule == "hcl-syntax" }
        #expect(syntax.map(\.message) == (depth > HCLParser.maxNesting ? Array(repeating: "nested deeper than 128", count: 3 * DeepNesting.constructs.count) : []))
    }

    @Test(arguments: [120, 1_000])
    func assessorWalksTheDeepestTrees(depth: Int) {
        let report = Assessor(input: .init(files: Self.files(depth: depth), directories: ["envs", "envs/dev", "envs/prod"])).assess()
        #expect(report.environments == ["dev", "prod"])
        #expect(report.styles.contains(.directoryPerEnvironment))
    }
}
