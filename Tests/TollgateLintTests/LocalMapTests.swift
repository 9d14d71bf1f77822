import Testing
import TollgateLint

@Suite struct LocalMapTests {
    @Test func envConditionalThroughAPerEnvironmentLocal() {
        let source = """
            locals {
              sizes = { dev = 1, stage = 2, prod = 3 }
            }

            resource "x" "y" {
              count = local.sizes[terraform.workspace]
            }

            """
        let input = LintInput(files: ["stacks/app/main.tf": Array(source.utf8), "stacks/app/.terraform.lock.hcl": []],
                              stacks: [.init(name: "app", path: "stacks/app")], environments: ["dev", "stage", "prod"])
        let findings = Linter(input: input).run().filter { $0.rule == "env-conditional" }
        #expect(findings.map { "\($0.range.start.line):\($0.range.start.column)-\($0.range.end.line):\($0.range.end.column)" } == ["6:11-6:43"])
        #expect(findings.first?.message.hasPrefix("local.sizes holds per-environment values and is indexed by terraform.workspace") == true)
    }
}

@Suite struct JSONLintTests {
    @Test func envConditionalInTfJSON() {
        let source = #"{"resource": {"x": {"y": {"count": "${var.env == \"prod\" ? 3 : 1}"}}}}"#
        let input = LintInput(files: ["stacks/app/main.tf.json": Array(source.utf8), "stacks/app/.terraform.lock.hcl": []],
                              stacks: [.init(name: "app", path: "stacks/app")], environments: ["dev", "prod"])
        let findings = Linter(input: input).run()
        #expect(findings.map(\.rule) == ["env-conditional"])
        #expect(findings.first?.location == "stacks/app/main.tf.json:1:36")
    }
}
