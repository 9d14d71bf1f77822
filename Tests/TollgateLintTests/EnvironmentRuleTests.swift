import HCL
import Testing
import TollgateLint

/// What `env-literal` and `env-conditional` fire on, and what they leave alone, one line each.
@Suite struct EnvironmentRuleTests {
    /// The environment findings of one `locals` attribute, as "RULE COLUMN-COLUMN".
    func findings(_ expression: String, environments: [String] = ["dev", "stage", "prod"]) -> [String] {
        let source = "locals {\n  x = \(expression)\n}\n"
        let input = LintInput(files: ["stacks/app/main.tf": Array(source.utf8), "stacks/app/.terraform.lock.hcl": []],
                              stacks: [.init(name: "app", path: "stacks/app")], environments: environments)
        return Linter(input: input).run().filter { $0.rule.hasPrefix("env-") }.map { "\($0.rule) \($0.range.start.column)-\($0.range.end.column)" }
    }

    @Test(arguments: [
        #""/dev/xvda""#,
        #""/dev/sdh""#,
        #""(ex. development)""#,
        #""Use a /16 in prod and a /20 in dev""#,
        #""https://app.dev.example.com""#,
        #""gs://audit-prod/logs""#,
        #""arn:aws:s3:::artifacts-prod/releases/*""#,
        #""/aws/ec2/${var.name}/dev-tools""#,
        #""api.prod.example.com""#,
        #""prod:read""#,
        #""${var.name}-${var.env}""#,
        #""production""#,
        #""product-catalog""#,
        #""devops""#,
        "<<-EOT\n    echo prod > /dev/console\n  EOT",
        #""%{if var.ok}prod%{endif}""#,
    ])
    func freeTextPathsAndOtherNamesAreNotLiterals(_ expression: String) {
        #expect(findings(expression) == [], "\(expression)")
    }

    @Test(arguments: [
        (#""prod""#, "env-literal 7-13"),
        (#""Stage""#, "env-literal 7-14"),
        (#""${var.name}-prod""#, "env-literal 7-25"),
        (#""shop-prod-assets""#, "env-literal 7-25"),
        (#""orders_stage_dlq""#, "env-literal 7-25"),
        (#"["a", "dev"]"#, "env-literal 13-18"),
    ])
    func wholeNamesAndBuiltNamesAreLiterals(_ expression: String, _ expected: String) {
        #expect(findings(expression) == [expected], "\(expression)")
    }

    @Test(arguments: [
        (#"var.env == "prod""#, "env-conditional 7-24"),
        (#"var.env != "prod""#, "env-conditional 7-24"),
        (#"lower(var.environment) == "prod""#, "env-conditional 7-39"),
        (#"contains(["stage", "prod"], var.environment)"#, "env-conditional 7-51"),
        (#"lookup({ prod = 3 }, var.env, 1)"#, "env-conditional 7-39"),
        (#"{ prod = 1, dev = 0 }[var.env]"#, "env-conditional 7-37"),
        (#"{ "prod" = 1, "dev" = 0 }[var.env]"#, "env-conditional 7-41"),
        (#"var.sizes[var.environment]"#, "env-conditional 7-33"),
        (#"startswith(var.env, "prod")"#, "env-conditional 7-34"),
        (#"endswith(local.env, "prod")"#, "env-conditional 7-34"),
        (#"can(regex("^prod", var.stage))"#, "env-conditional 11-36"),
        (#"var.env == "prod" ? "large" : "small""#, "env-conditional 7-24"),
    ])
    func testsAndLookupsOfTheEnvironmentAreConditionals(_ expression: String, _ expected: String) {
        #expect(findings(expression) == [expected], "\(expression)")
    }

    @Test func aConditionalKeepsTheNamesItBuildsInItsBranches() {
        #expect(findings(#"var.env == "prod" ? "shop-prod" : "shop""#) == ["env-conditional 7-24", "env-literal 27-38"])
    }

    @Test func anEmptyComparisonOnlyChecksThatTheEnvironmentIsSet() {
        #expect(findings(#"var.env != "" ? var.env : "none""#) == [])
        #expect(findings(#"var.env == null"#) == [])
    }

    @Test func descriptionsAndValidationsAreNotCode() {
        let source = """
            variable "environment" {
              type        = string
              description = "prod"
              validation {
                error_message = "must be dev, stage or prod"
                condition     = contains(["dev", "stage", "prod"], var.environment)
              }
            }

            variable "size" {
              default = "prod"
            }

            """
        let input = LintInput(files: ["modules/db/variables.tf": Array(source.utf8)], stacks: [], environments: ["dev", "stage", "prod"])
        let found = Linter(input: input).run().map { "\($0.rule) \($0.location)" }
        #expect(found == ["env-literal modules/db/variables.tf:11:13"])
    }

    @Test func workspaceIsFoundInsideAnEnvironmentLookup() {
        let source = "locals {\n  x = { dev = 1 }[terraform.workspace]\n}\n"
        let input = LintInput(files: ["modules/a/main.tf": Array(source.utf8)], stacks: [], environments: ["dev"])
        #expect(Linter(input: input).run().map { "\($0.rule) \($0.range.start.column)" } == ["env-conditional 7", "workspace-as-env 19"])
    }

    @Test func accountIdsAreStillFoundBesideEnvironmentMaps() {
        #expect(findings(#"{ dev = "111111111111" }"#) == [])
        let source = "locals {\n  x = { dev = \"111111111111\" }\n}\n"
        let input = LintInput(files: ["modules/a/main.tf": Array(source.utf8)], stacks: [], environments: ["dev"])
        #expect(Linter(input: input).run().map(\.rule) == ["account-literal"])
    }
}
