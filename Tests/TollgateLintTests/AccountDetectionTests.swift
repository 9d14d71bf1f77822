import Testing
import TollgateLint

/// The account of each environment, read from its provider blocks and the values set for it.
@Suite struct AccountDetectionTests {
    func accounts(_ files: [String: String], directories: [String] = []) -> [String] {
        Assessor(input: .init(files: files.mapValues { Array($0.utf8) }, directories: directories)).assess()
            .accounts.map { "\($0.env) \($0.provider) \($0.account) \($0.source)" }
    }

    @Test func awsAllowedAccountIdsAndAssumeRole() {
        let found = accounts([
            "envs/dev/main.tf": "provider \"aws\" {\n  region              = \"eu-west-1\"\n  allowed_account_ids = [\"111111111111\"]\n}\n",
            "envs/stage/main.tf": """
                provider "aws" {
                  region = "eu-west-1"
                  assume_role {
                    role_arn = "arn:aws:iam::${var.account_id}:role/deploy"
                  }
                }

                variable "account_id" {}

                """,
            "envs/stage/terraform.tfvars": "account_id = \"222222222222\"\n",
            "envs/prod/providers.tf": """
                provider "aws" {
                  alias               = "audit"
                  allowed_account_ids = ["999999999999"]
                }

                provider "aws" {
                  allowed_account_ids = [var.account]
                }

                variable "account" {
                  default = "333333333333"
                }

                """,
        ])
        #expect(found == [
            "dev aws 111111111111 envs/dev/main.tf:3:3 allowed_account_ids",
            "stage aws 222222222222 envs/stage/main.tf:4:5 assume_role.role_arn",
            "prod aws 333333333333 envs/prod/providers.tf:7:3 allowed_account_ids",
        ])
    }

    @Test func googleProjectAndAzureSubscription() {
        let found = accounts([
            "envs/dev/main.tf": "provider \"google\" {\n  project = \"acme-dev-1234\"\n}\n",
            "envs/prod/main.tf": "provider \"azurerm\" {\n  features {}\n  subscription_id = \"8f1c2d3e-0000-4000-8000-000000000001\"\n}\n",
        ])
        #expect(found == [
            "dev google acme-dev-1234 envs/dev/main.tf:2:3 project",
            "prod azurerm 8f1c2d3e-0000-4000-8000-000000000001 envs/prod/main.tf:3:3 subscription_id",
        ])
    }

    @Test func workspaceMapsAndTfvarsPerEnvironment() {
        let workspaces = accounts([
            "main.tf": """
                locals {
                  accounts = { dev = "111111111111", prod = "333333333333" }
                }

                provider "aws" {
                  allowed_account_ids = [local.accounts[terraform.workspace]]
                }

                """,
        ], directories: ["terraform.tfstate.d", "terraform.tfstate.d/dev", "terraform.tfstate.d/prod"])
        #expect(workspaces == ["dev aws 111111111111 main.tf:6:3 allowed_account_ids", "prod aws 333333333333 main.tf:6:3 allowed_account_ids"])

        let tfvars = accounts([
            "main.tf": "variable \"project\" {}\n\nprovider \"google\" {\n  project = var.project\n}\n",
            "dev.tfvars": "project = \"acme-dev\"\n",
            "prod.tfvars": "project = \"acme-prod\"\n",
        ])
        #expect(tfvars == ["dev google acme-dev main.tf:4:3 project", "prod google acme-prod main.tf:4:3 project"])
    }

    @Test func unresolvedValuesAreNotGuessed() {
        #expect(accounts([
            "envs/dev/main.tf": "provider \"aws\" {\n  allowed_account_ids = [var.account]\n}\n\nvariable \"account\" {}\n",
            "envs/prod/main.tf": "provider \"aws\" {\n  assume_role {\n    role_arn = \"arn:aws:iam::not-an-id:role/x\"\n  }\n}\n",
        ]).isEmpty)
    }

    @Test func draftUsesTheDetectedAccountOncePerAccount() {
        let report = Assessor(input: .init(files: [
            "envs/dev/main.tf": "provider \"google\" {\n  project = \"acme-shared\"\n}\n",
            "envs/stage/main.tf": "provider \"google\" {\n  project = \"acme-shared\"\n}\n",
            "envs/prod/main.tf": "provider \"aws\" {\n  allowed_account_ids = [\"333333333333\"]\n}\n",
        ].mapValues { Array($0.utf8) })).assess()
        #expect(report.pipeline.contains("  - name: dev\n    account: \"acme-shared\"\n    identity: gcloud config get-value project\n"))
        #expect(report.pipeline.contains("  - name: stage\n    account: REPLACE-stage-account\n    identity: echo REPLACE-stage-account  # shares google account acme-shared with dev; give it its own\n"))
        #expect(report.pipeline.contains("  - name: prod\n    account: \"333333333333\"\n    identity: aws sts get-caller-identity --query Account --output text\n"))
        #expect(report.markdown.contains("## Accounts and backends\n\n- dev: account acme-shared (google, envs/dev/main.tf:2:3 project)\n"))
    }
}
