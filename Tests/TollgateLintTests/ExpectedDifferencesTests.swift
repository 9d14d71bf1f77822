import Testing
import TollgateLint

@Suite struct ExpectedDifferencesTests {
    func skew(expected: [String], inputs: [String] = LintInput.defaultEnvironmentInputs) -> [Finding] {
        let files: [String: String] = [
            "stacks/app/variables.tf": "variable \"debug\" {\n  default = false\n}\n",
            "stacks/app/.terraform.lock.hcl": "",
            "config/dev/app.tfvars": "debug = true\n",
            "config/prod/app.tfvars": "\n",
        ]
        let input = LintInput(files: files.mapValues { Array($0.utf8) }, stacks: [.init(name: "app", path: "stacks/app")],
                              environments: ["dev", "prod"], environmentInputs: inputs, expectedDifferences: expected)
        return Linter(input: input).run()
    }

    @Test func listedDifferencesAreNotReported() {
        #expect(skew(expected: []).map(\.rule) == ["config-skew"])
        #expect(skew(expected: ["debug"]).isEmpty)
    }

    @Test func environmentInputsAreConfigurable() {
        let source = "locals {\n  big = var.tier == \"prod\"\n}\n"
        let files = ["stacks/app/main.tf": Array(source.utf8), "stacks/app/.terraform.lock.hcl": []]
        let stacks = [LintInput.Stack(name: "app", path: "stacks/app")]
        let builtIn = Linter(input: LintInput(files: files, stacks: stacks, environments: ["dev", "prod"])).run()
        #expect(!builtIn.contains { $0.rule == "env-conditional" })
        let configured = Linter(input: LintInput(files: files, stacks: stacks, environments: ["dev", "prod"], environmentInputs: ["var.tier"])).run()
        #expect(configured.map(\.rule) == ["env-conditional"])
    }
}
