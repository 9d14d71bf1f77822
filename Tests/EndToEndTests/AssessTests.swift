import Foundation
import TestSupport
import Testing

/// `tollgate assess` on three repositories laid out the usual other ways; each draft pipeline validates.
@Suite struct AssessTests {
    func write(_ root: String, _ files: [String: String]) throws {
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
    }

    func assess(_ cli: CLI, _ path: String) throws -> [String: Any] {
        let result = try cli.run("assess", path, "--format", "json")
        #expect(result.status == 0, "\(result.stderr)")
        return try result.json()
    }

    /// Writes the draft pipeline and checks it with `tollgate validate`.
    func draftValidates(_ cli: CLI, _ report: [String: Any], in directory: String) throws {
        let pipeline = try #require(report["pipeline"] as? String)
        try write(directory, ["draft/tollgate.yaml": pipeline])
        let validated = try cli.run("validate", "--config", directory + "/draft/tollgate.yaml")
        #expect(validated.status == 0, "\(validated.stderr)\n\(pipeline)")
    }

    func rules(_ report: [String: Any]) -> [String] {
        (report["findings"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
    }

    @Test func directoryPerEnvironment() throws {
        let root = try TemporaryDirectory("tollgate-assess-dirs")
        defer { root.remove() }
        for (env, count) in [("dev", 1), ("stage", 2), ("prod", 3)] {
            try write(root.path + "/repo", [
                "live/\(env)/main.tf": "terraform {\n  backend \"s3\" {\n    bucket = \"acme-\(env)-state\"\n    key    = \"app.tfstate\"\n  }\n}\n\nresource \"null_resource\" \"app\" {\n  count = \(count)\n}\n",
                "live/\(env)/terraform.tfvars": "size = \(count)\n",
            ])
        }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let report = try assess(cli, root.path + "/repo")
        #expect(report["styles"] as? [String] == ["directory-per-environment"])
        #expect(report["environments"] as? [String] == ["dev", "stage", "prod"])
        #expect((report["similarity"] as? [String])?.first?.hasPrefix("live/dev ~ live/stage: 78% identical lines") == true)
        #expect(rules(report).filter { $0 == "backend-values-in-code" }.count == 3)
        #expect((report["config_files"] as? [String: String])?["config/prod/main.tfvars"] == "size = 3\n")
        #expect((report["pipeline"] as? String)?.contains("bucket: \"acme-prod-state\"") == true)
        #expect((report["moved_blocks"] as? [String: String])?.isEmpty == true)
        #expect((report["steps"] as? [String])?.contains { $0.contains("No moved blocks are needed") } == true)
        try draftValidates(cli, report, in: root.path)
    }

    /// Resources named per environment get exact moved blocks per environment, and the accounts
    /// named in provider blocks go into the draft, which still validates.
    @Test func renamesAndAccountsPerEnvironmentDirectory() throws {
        let root = try TemporaryDirectory("tollgate-assess-renames")
        defer { root.remove() }
        for (env, account, module) in [("dev", "111111111111", "network"), ("prod", "333333333333", "network_prod")] {
            try write(root.path + "/repo", [
                "envs/\(env)/main.tf": """
                    provider "aws" {
                      region              = "eu-west-1"
                      allowed_account_ids = [var.account_id]
                    }

                    variable "account_id" {}

                    resource "aws_s3_bucket" "\(env)_logs" {
                      bucket = "acme-\(env)-logs"
                    }

                    module "\(module)" {
                      source = "../../modules/network"
                      cidr   = "10.0.0.0/16"
                    }

                    """ + (env == "prod" ? "resource \"aws_cloudwatch_dashboard\" \"ops\" {\n  dashboard_name = \"ops\"\n}\n" : ""),
                "envs/\(env)/terraform.tfvars": "account_id = \"\(account)\"\n",
            ])
        }
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let report = try assess(cli, root.path + "/repo")
        let moved = report["moved_blocks"] as? [String: String] ?? [:]
        #expect(moved["envs/dev"] == "moved {\n  from = aws_s3_bucket.dev_logs\n  to   = aws_s3_bucket.logs\n}\n")
        #expect(moved["envs/prod"] == """
            moved {
              from = aws_cloudwatch_dashboard.ops
              to   = aws_cloudwatch_dashboard.ops[0]
            }

            moved {
              from = aws_s3_bucket.prod_logs
              to   = aws_s3_bucket.logs
            }

            moved {
              from = module.network_prod
              to   = module.network
            }

            """)
        let conditionals = report["conditionals"] as? [[String: Any]] ?? []
        #expect(conditionals.map { "\($0["address"] ?? "") \($0["argument"] ?? "")" } == ["aws_cloudwatch_dashboard.ops count = var.enable_ops ? 1 : 0"])
        let accounts = report["accounts"] as? [[String: Any]] ?? []
        #expect(accounts.map { "\($0["env"] ?? "") \($0["account"] ?? "")" } == ["dev 111111111111", "prod 333333333333"])
        let pipeline = report["pipeline"] as? String ?? ""
        #expect(pipeline.contains("account: \"111111111111\"\n    identity: aws sts get-caller-identity --query Account --output text"))
        #expect(pipeline.contains("account: \"333333333333\""))
        #expect(!pipeline.contains("REPLACE-prod-account"))
        #expect((report["config_files"] as? [String: String])?["config/prod/main.tfvars"] == "account_id = \"333333333333\"\nenable_ops = true\n")
        let markdown = try cli.run("assess", root.path + "/repo")
        #expect(markdown.stdout.contains("### envs/prod/moved.tf (prod)\n\n```hcl\nmoved {\n  from = aws_cloudwatch_dashboard.ops\n"))
        try draftValidates(cli, report, in: root.path)
    }

    @Test func workspaces() throws {
        let root = try TemporaryDirectory("tollgate-assess-ws")
        defer { root.remove() }
        try write(root.path + "/repo", [
            "main.tf": """
                locals {
                  sizes = { dev = 1, prod = 3 }
                }

                resource "null_resource" "app" {
                  count = local.sizes[terraform.workspace]
                }

                """,
            "terraform.tfstate.d/dev/terraform.tfstate": "{}",
            "terraform.tfstate.d/prod/terraform.tfstate": "{}",
        ])
        let cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let report = try assess(cli, root.path + "/repo")
        #expect(report["styles"] as? [String] == ["workspaces"])
        #expect(report["environments"] as? [String] == ["dev", "prod"])
        #expect(rules(report).contains("workspace-as-env"))
        #expect(rules(report).contains("env-conditional"))
        #expect((report["pipeline"] as? String)?.contains("path: \"terraform.tfstate.d/prod/terraform.tfstate\"") == true)
        try draftValidates(cli, report, in: root.path)
    }

    @Test func branchPerEnvironment() throws {
        let root = try TemporaryDirectory("tollgate-assess-branches")
        defer { root.remove() }
        let repo = root.path + "/repo"
        try write(repo, ["main.tf": "variable \"size\" {\n  default = 1\n}\n"])
        var cli = CLI(directory: repo, engine: nil, cache: root.path + "/cache")
        try cli.git("init", "-q")
        try cli.git("add", "-A")
        try cli.git("commit", "-q", "-m", "base")
        for (env, size) in [("dev", 2), ("prod", 5)] {
            try cli.git("checkout", "-q", "-b", env, "main")
            try write(repo, ["main.tf": "variable \"size\" {\n  default = \(size)\n}\n", "\(env).tfvars": "size = \(size)\n"])
            try cli.git("add", "-A")
            try cli.git("commit", "-q", "-m", "\(env) values")
        }
        try cli.git("checkout", "-q", "main")
        cli = CLI(directory: root.path, engine: nil, cache: root.path + "/cache")
        let report = try assess(cli, repo)
        #expect((report["styles"] as? [String])?.contains("branch-per-environment") == true)
        #expect(report["environments"] as? [String] == ["dev", "prod"])
        let branches = report["branches"] as? [String] ?? []
        #expect(branches.contains("dev: 1 ahead, 0 behind main; differing files: dev.tfvars, main.tf"))
        #expect(branches.contains("prod: 1 ahead, 0 behind main; differing files: main.tf, prod.tfvars"))
        try draftValidates(cli, report, in: root.path)
    }
}
