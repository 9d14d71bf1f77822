import HCL
import TestSupport
import Testing
import TollgateLint

/// Lint reads a module written like the common AWS modules (dynamic blocks, for expressions,
/// chained splats, heredoc policies, templatefile calls) without one syntax finding.
@Suite struct ModuleSyntaxTests {
    @Test func awsStyleModuleHasNoSyntaxFindings() throws {
        let module = try TestPaths.fixture("hcl/modules/aws-service.tf")
        let input = LintInput(files: ["modules/service/main.tf": Array(module)], stacks: [], environments: ["dev", "prod"])
        let findings = Linter(input: input).run()
        #expect(findings.filter { $0.rule == "hcl-syntax" }.map(\.message) == [])
    }
}
