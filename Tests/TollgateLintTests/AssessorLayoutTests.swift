import Foundation
import TestSupport
import Testing
import TollgateLint

/// Environments and stacks read from a repository's structure: the level whose sibling
/// directories keep their own state, values or account; harnesses and examples left out; several
/// root modules per environment as several stacks; Terragrunt live repositories.
@Suite struct AssessorLayoutTests {
    func assess(_ files: [String: String], directories: [String] = []) -> Assessor.Report {
        Assessor(input: .init(files: files.mapValues { Array($0.utf8) }, directories: directories)).assess()
    }

    /// The `.tf`, `.tfvars` and `.hcl` files of a fixture under Tests/Fixtures/assess/.
    static func fixture(_ name: String) -> [String: [UInt8]] {
        let root = TestPaths.fixtures + "/assess/" + name
        var files: [String: [UInt8]] = [:]
        for relative in FileManager.default.subpaths(atPath: root) ?? []
        where relative.hasSuffix(".tf") || relative.hasSuffix(".tfvars") || relative.hasSuffix(".hcl") {
            files[relative] = FileManager.default.contents(atPath: root + "/" + relative).map { Array($0) }
        }
        return files
    }

    static let backend = "terraform {\n  backend \"s3\" {\n    bucket = \"state\"\n    key    = \"KEY\"\n  }\n}\n"

    @Test func harnessesAndExamplesAreNotEnvironments() {
        let report = assess([
            "envs/dev/main.tf": "locals {}\n", "envs/prod/main.tf": "locals {}\n",
            "test/main.tf": Self.backend, "tests/integration/main.tf": Self.backend,
            "examples/dev/main.tf": Self.backend, "examples/prod/main.tf": Self.backend,
            "fixtures/prod/main.tf": "locals {}\n", "envs/prod/.terraform/modules/vpc/main.tf": Self.backend,
            "test/fixtures/dev/main.tf": Self.backend, "test/fixtures/prod/main.tf": Self.backend,
        ])
        #expect(report.environments == ["dev", "prod"])
        #expect(report.stacks == [.init(name: "main", paths: ["dev": "envs/dev", "prod": "envs/prod"], dependsOn: [])])
        #expect(report.outside == [])
    }

    @Test func environmentsAreSiblingsWithTheirOwnStateWhateverTheirNames() {
        let blueGreen = assess([
            "accounts/blue/main.tf": Self.backend.replacingOccurrences(of: "KEY", with: "blue"),
            "accounts/green/main.tf": Self.backend.replacingOccurrences(of: "KEY", with: "green"),
            "scripts/tool/main.tf": "locals {}\n",
        ])
        #expect(blueGreen.styles == [.directoryPerEnvironment])
        #expect(blueGreen.environments == ["blue", "green"])
        #expect(blueGreen.outside == ["scripts/tool"])

        var files: [String: String] = [:]
        for env in ["prod", "dr", "uat", "nonprod", "qa", "sandbox", "nonproduction", "perf", "preprod"] {
            files["deploy/\(env)/main.tf"] = "locals {}\n"
        }
        #expect(assess(files).environments == ["sandbox", "qa", "uat", "nonprod", "nonproduction", "perf", "preprod", "prod", "dr"])
    }

    /// `envs/ENV/STACK` gives one stack per STACK, not one environment per stack; dependencies
    /// come from `terraform_remote_state` (a local state path, or the other stack's key).
    @Test func severalRootModulesPerEnvironmentAreSeveralStacks() {
        var files: [String: String] = [:]
        for env in ["dev", "prod"] {
            files["envs/\(env)/network/main.tf"] = "terraform {\n  backend \"local\" {}\n}\n\nresource \"null_resource\" \"vpc\" {}\n"
            files["envs/\(env)/app/main.tf"] = """
                terraform {
                  backend "local" {}
                }

                data "terraform_remote_state" "net" {
                  backend = "local"
                  config = {
                    path = "../network/terraform.tfstate"
                  }
                }

                """
            files["envs/\(env)/app/terraform.tfvars"] = "replicas = \(env == "prod" ? 3 : 1)\n"
        }
        let report = assess(files)
        #expect(report.environments == ["dev", "prod"])
        #expect(report.stacks == [
            .init(name: "app", paths: ["dev": "envs/dev/app", "prod": "envs/prod/app"], dependsOn: ["network"]),
            .init(name: "network", paths: ["dev": "envs/dev/network", "prod": "envs/prod/network"], dependsOn: []),
        ])
        #expect(report.pipeline.contains("stacks:\n  - name: app\n    depends_on: [network]\n  - name: network\nenvironments:\n"))
        #expect(report.pipeline.contains("    backend:\n      type: local\n      settings:\n        path: \"envs/prod/{stack}/terraform.tfstate\"\n"))
        #expect(report.configFiles == [
            "config/dev/app.tfvars": "replicas = 1\n", "config/dev/network.tfvars": "",
            "config/prod/app.tfvars": "replicas = 3\n", "config/prod/network.tfvars": "",
        ])
    }

    /// A local backend's path is relative to the directory it ran in: the draft keeps each
    /// environment's own file, where it once gave both the same `terraform.tfstate`.
    @Test func localStatePathsStayInTheirDirectories() {
        let local = "terraform {\n  backend \"local\" {\n    path = \"state/terraform.tfstate\"\n  }\n}\n"
        let report = assess(["envs/dev/main.tf": local, "envs/prod/main.tf": local])
        #expect(report.pipeline.contains("        path: \"envs/dev/state/terraform.tfstate\"\n"))
        #expect(report.pipeline.contains("        path: \"envs/prod/state/terraform.tfstate\"\n"))
    }

    @Test func directoryPerEnvironmentFixture() {
        let report = Assessor(input: .init(files: Self.fixture("directories"))).assess()
        #expect(report.styles == [.directoryPerEnvironment])
        #expect(report.environments == ["dev", "qa", "uat", "prod"])
        let paths = { (stack: String) in Dictionary(uniqueKeysWithValues: ["dev", "qa", "uat", "prod"].map { ($0, "envs/\($0)/\(stack)") }) }
        #expect(report.stacks == [
            .init(name: "app", paths: paths("app"), dependsOn: ["database", "network"]),
            .init(name: "database", paths: paths("database"), dependsOn: ["network"]),
            .init(name: "network", paths: paths("network"), dependsOn: []),
        ])
        #expect(report.outside == ["envs/global/dns"])
        #expect(report.accounts.map { "\($0.env) \($0.account) \($0.source)" } == [
            "dev 111111111111 envs/dev/app/providers.tf:3:3 allowed_account_ids",
            "qa 222222222222 envs/qa/app/providers.tf:3:3 allowed_account_ids",
            "uat 333333333333 envs/uat/app/providers.tf:3:3 allowed_account_ids",
            "prod 444444444444 envs/prod/app/providers.tf:3:3 allowed_account_ids",
        ])
        #expect(report.pipeline == Self.directoriesPipeline)
        #expect(report.notes == [])
        #expect(report.configFiles["config/prod/database.tfvars"] == "account_id     = \"444444444444\"\ninstance_class = \"db.r6g.large\"\nstorage_gb     = 200\n")
    }

    static var directoriesPipeline: String {
        var text = """
            # Draft written by 'tollgate assess': review every REPLACE before use.
            version: 1
            engine:
              binary: terraform
              version: ">= 1.0.0"
            main_branch: main
            approvers: .tollgate/allowed_signers
            stacks:
              - name: app
                depends_on: [database, network]
              - name: database
                depends_on: [network]
              - name: network
            environments:

            """
        let accounts = ["111111111111", "222222222222", "333333333333", "444444444444"]
        let gates = [" auto", " on-merge", " on-merge", "\n      type: approval\n      required: 1\n      approvers: [REPLACE-approver@example.com]\n      max_plan_age: 24h"]
        for (index, env) in ["dev", "qa", "uat", "prod"].enumerated() {
            text += """
                  - name: \(env)
                    account: "\(accounts[index])"
                    identity: aws sts get-caller-identity --query Account --output text
                    backend:
                      type: s3
                      settings:
                        bucket: "acme-\(env)-tfstate"
                        key: "{stack}/terraform.tfstate"
                        region: "eu-west-1"
                        dynamodb_table: "acme-\(env)-tflock"
                        encrypt: "true"
                    gate:\(gates[index])

                """
        }
        return text
    }

    @Test func workspacesFixture() {
        let report = Assessor(input: .init(files: Self.fixture("workspaces"))).assess()
        #expect(report.styles == [.workspaces, .tfvarsPerEnvironment])
        #expect(report.environments == ["dev", "qa", "staging", "prod"])
        #expect(report.stacks == [.init(name: "main", paths: [:], dependsOn: [])])
        #expect(report.accounts.map { "\($0.env) \($0.account)" } == ["dev 111111111111", "qa 222222222222", "staging 333333333333", "prod 444444444444"])
        #expect(report.pipeline.contains("""
                backend:
                  type: s3
                  settings:
                    bucket: "acme-tfstate"
                    key: "workspaces/staging/platform/terraform.tfstate"
                    region: "eu-west-1"
                    dynamodb_table: "acme-tflock"

            """))
        #expect(report.configFiles["config/staging/main.tfvars"] == "account_id = \"333333333333\"\ncidr       = \"10.30.0.0/16\"\nreplicas   = 2\n")
    }

    /// `live/<env>/<stack>/terragrunt.hcl` under a root `terragrunt.hcl`.
    @Test func terragruntEnvironmentAndStackDirectories() {
        let root = """
            remote_state {
              backend = "gcs"
              config = {
                bucket = "acme-state"
                prefix = "${path_relative_to_include()}"
              }
            }

            """
        var files = ["live/terragrunt.hcl": root]
        for env in ["dev", "prod"] {
            files["live/\(env)/network/terragrunt.hcl"] = "include {\n  path = find_in_parent_folders()\n}\n\nterraform {\n  source = \"../../../modules//network\"\n}\n"
            files["live/\(env)/app/terragrunt.hcl"] = """
                include {
                  path = find_in_parent_folders()
                }

                dependencies {
                  paths = ["../network"]
                }

                inputs = {
                  size = \(env == "prod" ? 3 : 1)
                }

                """
        }
        let report = assess(files)
        #expect(report.styles == [.terragrunt])
        #expect(report.environments == ["dev", "prod"])
        #expect(report.stacks == [
            .init(name: "app", paths: ["dev": "live/dev/app", "prod": "live/prod/app"], dependsOn: ["network"]),
            .init(name: "network", paths: ["dev": "live/dev/network", "prod": "live/prod/network"], dependsOn: [], source: "../../../modules//network"),
        ])
        #expect(report.pipeline.contains("      type: gcs\n      settings:\n        bucket: \"acme-state\"\n        prefix: \"prod/{stack}\"\n"))
        #expect(report.configFiles["config/prod/app.tfvars"] == "size = 3\n")
    }

    @Test func terragruntFixture() {
        let report = Assessor(input: .init(files: Self.fixture("terragrunt"))).assess()
        #expect(report.styles == [.terragrunt])
        #expect(report.environments == ["dev", "qa", "uat", "prod"])
        let paths = { (stack: String) in
            ["dev": "live/dev/eu-west-1/dev/\(stack)", "qa": "live/nonprod/eu-west-1/qa/\(stack)",
             "uat": "live/nonprod/eu-west-1/uat/\(stack)", "prod": "live/prod/eu-west-1/prod/\(stack)"]
        }
        let modules = "git::git@github.com:acme/infrastructure-modules.git//"
        #expect(report.stacks == [
            .init(name: "app", paths: paths("app"), dependsOn: ["database", "vpc"], source: modules + "ecs-service?ref=v2.4.1"),
            .init(name: "database", paths: paths("database"), dependsOn: ["vpc"], source: modules + "database?ref=v2.3.0"),
            .init(name: "vpc", paths: paths("vpc"), dependsOn: [], source: modules + "vpc?ref=v2.3.0"),
        ])
        #expect(report.outside == ["live/prod/_global/iam"])
        #expect(report.accounts.map { "\($0.env) \($0.account) \($0.source)" } == [
            "dev 111111111111 live/dev/account.hcl:3:3 aws_account_id",
            "qa 222222222222 live/nonprod/account.hcl:3:3 aws_account_id",
            "uat 222222222222 live/nonprod/account.hcl:3:3 aws_account_id",
            "prod 444444444444 live/prod/account.hcl:3:3 aws_account_id",
        ])
        #expect(report.units.first { $0.path == "live/nonprod/eu-west-1/qa/app" } == Terragrunt.Unit(
            path: "live/nonprod/eu-west-1/qa/app", env: "qa", stack: "app", source: modules + "ecs-service?ref=v2.4.1",
            dependencies: ["live/nonprod/eu-west-1/qa/database", "live/nonprod/eu-west-1/qa/vpc"],
            includes: ["live/root.hcl", "live/_envcommon/app.hcl"],
            inputs: [
                "name = \"acme-app-qa\"",
                "# subnet_ids = dependency.vpc.outputs.private_subnet_ids (not a value: pass it to the stack another way)",
                "# database_host = dependency.database.outputs.address (not a value: pass it to the stack another way)",
                "replicas = 1",
            ]))
        #expect(report.pipeline.contains("""
              - name: uat
                account: REPLACE-uat-account
                identity: echo REPLACE-uat-account  # shares aws account 222222222222 with qa; give it its own
                backend:
                  type: s3
                  settings:
                    encrypt: "true"
                    bucket: "acme-nonprod-tfstate"
                    key: "nonprod/eu-west-1/uat/{stack}/terraform.tfstate"
                    region: "eu-west-1"
                    dynamodb_table: "acme-terraform-locks"

            """))
    }
}
