import Foundation
import HCL
import Testing
import TollgateLint

/// A positive fixture (a finding, at its exact range) and a negative one (clean code) per rule.
@Suite struct LinterTests {
    static let lock = "# lock file\n"

    func lint(_ files: [String: String], stacks: [String] = ["app"], environments: [String] = ["dev", "stage", "prod"]) -> [Finding] {
        var all = files
        for stack in stacks where all["stacks/\(stack)/.terraform.lock.hcl"] == nil { all["stacks/\(stack)/.terraform.lock.hcl"] = Self.lock }
        let input = LintInput(files: all.mapValues { Array($0.utf8) }, stacks: stacks.map { .init(name: $0, path: "stacks/\($0)") },
                              environments: environments)
        return Linter(input: input).run()
    }

    func only(_ rule: String, _ findings: [Finding]) -> [Finding] { findings.filter { $0.rule == rule } }

    func at(_ finding: Finding?) -> String {
        guard let finding else { return "none" }
        return "\(finding.file):\(finding.range.start.line):\(finding.range.start.column)-\(finding.range.end.line):\(finding.range.end.column)"
    }

    @Test func envConditionalComparison() {
        let findings = only("env-conditional", lint(["stacks/app/main.tf": """
            resource "x" "y" {
              count = var.env == "prod" ? 3 : 1
            }

            """]))
        #expect(findings.count == 1)
        #expect(at(findings.first) == "stacks/app/main.tf:2:11-2:28")
        #expect(findings.first?.message.contains("move the value that differs for 'prod' into config/prod/") == true)
        #expect(findings.first?.severity == .error)
    }

    @Test func envConditionalMapAndLookup() {
        let findings = only("env-conditional", lint(["modules/db/main.tf": """
            locals {
              size = { dev = "small", prod = "large" }[var.environment]
              tier = lookup(var.tiers, local.env, "basic")
            }

            """]))
        #expect(findings.map(at) == ["modules/db/main.tf:2:10-2:60", "modules/db/main.tf:3:10-3:47"])
    }

    @Test func envConditionalNotOnOrdinaryComparisons() {
        #expect(only("env-conditional", lint(["stacks/app/main.tf": """
            resource "x" "y" {
              count = var.instance_count > 1 ? var.instance_count : 1
              name  = var.name == "" ? "default" : var.name
            }

            """])).isEmpty)
    }

    @Test func workspaceAsEnv() {
        let findings = only("workspace-as-env", lint(["stacks/app/main.tf": "locals {\n  name = \"app-${terraform.workspace}\"\n}\n"]))
        #expect(at(findings.first) == "stacks/app/main.tf:2:17-2:36")
        #expect(only("workspace-as-env", lint(["stacks/app/main.tf": "locals {\n  name = \"app-${var.name}\"\n}\n"])).isEmpty)
    }

    @Test func envLiteral() {
        let findings = only("env-literal", lint(["stacks/app/main.tf": "resource \"x\" \"y\" {\n  tags = { Environment = \"prod\" }\n}\n"]))
        #expect(at(findings.first) == "stacks/app/main.tf:2:26-2:32")
        #expect(only("env-literal", lint(["stacks/app/main.tf": "resource \"x\" \"y\" {\n  tags = { Environment = var.env_name_tag }\n}\n"])).isEmpty)
    }

    @Test func backendValuesInCode() {
        let findings = only("backend-values-in-code", lint(["stacks/app/versions.tf": "terraform {\n  backend \"s3\" {\n    bucket = \"prod-state\"\n  }\n}\n"]))
        #expect(at(findings.first) == "stacks/app/versions.tf:2:3-4:4")
        #expect(only("backend-values-in-code", lint(["stacks/app/versions.tf": "terraform {\n  backend \"s3\" {}\n}\n"])).isEmpty)
    }

    @Test func accountLiteral() {
        let findings = only("account-literal", lint(["stacks/app/main.tf": "locals {\n  account = \"123456789012\"\n}\n"]))
        #expect(at(findings.first) == "stacks/app/main.tf:2:13-2:27")
        #expect(only("account-literal", lint(["stacks/app/main.tf": "locals {\n  account = var.account_id\n}\n"])).isEmpty)
    }

    @Test func providerAccountUnpinned() {
        let findings = only("provider-account-unpinned", lint(["stacks/app/providers.tf": "provider \"aws\" {\n  region = var.region\n}\n"]))
        #expect(at(findings.first) == "stacks/app/providers.tf:1:1-3:2")
        #expect(findings.first?.severity == .warning)
        #expect(only("provider-account-unpinned", lint(["stacks/app/providers.tf": "provider \"aws\" {\n  allowed_account_ids = [var.account_id]\n}\n"])).isEmpty)
    }

    @Test func moduleUnpinned() {
        let findings = only("module-unpinned", lint(["stacks/app/main.tf": """
            module "a" {
              source = "git::https://example.com/vpc.git"
            }
            module "b" {
              source = "terraform-aws-modules/vpc/aws"
            }
            module "c" {
              source = "../../../outside"
            }

            """]))
        #expect(findings.map(at) == ["stacks/app/main.tf:2:3-2:46", "stacks/app/main.tf:5:3-5:43", "stacks/app/main.tf:8:3-8:30"])
        #expect(only("module-unpinned", lint(["stacks/app/main.tf": """
            module "a" {
              source = "git::https://example.com/vpc.git?ref=v1.2.0"
            }
            module "b" {
              source  = "terraform-aws-modules/vpc/aws"
              version = "5.1.0"
            }
            module "c" {
              source = "../../modules/vpc"
            }

            """])).isEmpty)
    }

    @Test func configRules() {
        let files = [
            "stacks/app/variables.tf": "variable \"size\" {\n  type = number\n}\nvariable \"tag\" {\n  default = \"x\"\n}\n",
            "config/dev/app.tfvars": "size = 1\ntag = \"a\"\n",
            "config/stage/app.tfvars": "size = 2\ntypo = 3\n",
            "config/prod/app.tfvars": "tag = \"c\"\n",
        ]
        let findings = lint(files)
        #expect(only("config-undeclared", findings).map(at) == ["config/stage/app.tfvars:2:1-2:5"])
        #expect(only("config-missing", findings).map(at) == ["stacks/app/variables.tf:1:1-3:2"])
        #expect(only("config-missing", findings).first?.message.contains("no value in config/prod/app.tfvars") == true)
        #expect(only("config-skew", findings).map { $0.message }.contains { $0.hasPrefix("'tag' is set for dev, prod but not for stage") })
        let clean = lint([
            "stacks/app/variables.tf": "variable \"size\" {\n  type = number\n}\n",
            "config/dev/app.tfvars": "size = 1\n", "config/stage/app.tfvars": "size = 2\n", "config/prod/app.tfvars": "size = 3\n",
        ])
        #expect(clean.isEmpty, "\(clean)")
    }

    @Test func lockfileMissing() {
        let input = LintInput(files: ["stacks/app/main.tf": Array("locals {}\n".utf8)], stacks: [.init(name: "app", path: "stacks/app")], environments: ["dev"])
        let findings = Linter(input: input).run()
        #expect(findings.map(\.rule) == ["lockfile-missing"])
        #expect(at(findings.first) == "stacks/app/main.tf:1:1-1:1")
    }

    @Test func suppressionsNeedAReason() {
        let suppressed = lint(["stacks/app/main.tf": "locals {\n  # tollgate:ignore workspace-as-env legacy naming, removed in Q3\n  name = terraform.workspace\n}\n"])
        #expect(suppressed.isEmpty, "\(suppressed)")
        let noReason = lint(["stacks/app/main.tf": "locals {\n  name = terraform.workspace # tollgate:ignore workspace-as-env\n}\n"])
        #expect(noReason.map(\.rule).sorted() == ["suppression-reason", "workspace-as-env"])
    }

    @Test func syntaxErrorsAreFindings() {
        let findings = lint(["stacks/app/main.tf": "locals {\n  a = \"open\n}\n"])
        #expect(only("hcl-syntax", findings).first.map(at) == "stacks/app/main.tf:2:7-2:8")
    }

    @Test func sarifHasTheRequiredShape() throws {
        let findings = lint(["stacks/app/main.tf": "locals {\n  name = terraform.workspace\n}\n"])
        let report = SARIF.report(findings, version: "0.1.0")
        #expect(report["version"] as? String == "2.1.0")
        let run = try #require((report["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "tollgate")
        #expect((driver["rules"] as? [[String: Any]])?.count == LintRules.all.count)
        let result = try #require((run["results"] as? [[String: Any]])?.first)
        #expect(result["ruleId"] as? String == "workspace-as-env")
        #expect(result["level"] as? String == "error")
        let region = ((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["region"] as? [String: Int]
        #expect(region == ["startLine": 2, "startColumn": 10, "endLine": 2, "endColumn": 29])
        #expect(JSONSerialization.isValidJSONObject(report))
    }
}
