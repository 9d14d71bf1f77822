import Testing
import TollgateLint

/// Environment directories merged into one stack: renamed resources need exact moved blocks per
/// environment, resources in only some environments get a config flag.
@Suite struct ConsolidationTests {
    func assess(_ files: [String: String]) -> Assessor.Report {
        Assessor(input: .init(files: files.mapValues { Array($0.utf8) })).assess()
    }

    static func environment(_ env: String, logs: String, network: String, queue: String, extra: String = "") -> String {
        """
        resource "aws_s3_bucket" "\(logs)" {
          bucket        = "acme-\(env)-logs"
          force_destroy = true
        }

        module "\(network)" {
          source = "../../modules/network"
          cidr   = "10.0.0.0/16"
          name   = "\(env)"
        }

        resource "aws_sqs_queue" "\(queue)" {
          name                       = "acme-\(env)-jobs"
          visibility_timeout_seconds = 30
          message_retention_seconds  = 86400
        }

        resource "aws_iam_role" "app" {
          name = "app-\(env)"
        }
        \(extra)
        """
    }

    static let renamed: [String: String] = [
        "envs/dev/main.tf": environment("dev", logs: "dev_logs", network: "network", queue: "jobs",
                                        extra: "resource \"aws_instance\" \"bastion\" {\n  count = 1\n  ami   = \"ami-1\"\n}\n"),
        "envs/stage/main.tf": environment("stage", logs: "stage_logs", network: "network", queue: "jobs",
                                          extra: "resource \"aws_instance\" \"bastion\" {\n  count = 1\n  ami   = \"ami-1\"\n}\n"),
        "envs/prod/main.tf": environment("prod", logs: "prod_logs", network: "network_prod", queue: "work_queue",
                                         extra: "resource \"aws_cloudwatch_dashboard\" \"ops\" {\n  dashboard_name = \"ops\"\n}\n"),
    ]

    @Test func renamesBecomeMovedBlocksPerEnvironment() {
        let report = assess(Self.renamed)
        #expect(report.movedBlocks["envs/dev"] == """
            moved {
              from = aws_s3_bucket.dev_logs
              to   = aws_s3_bucket.logs
            }

            """)
        #expect(report.movedBlocks["envs/stage"] == "moved {\n  from = aws_s3_bucket.stage_logs\n  to   = aws_s3_bucket.logs\n}\n")
        #expect(report.movedBlocks["envs/prod"] == """
            moved {
              from = aws_cloudwatch_dashboard.ops
              to   = aws_cloudwatch_dashboard.ops[0]
            }

            moved {
              from = aws_s3_bucket.prod_logs
              to   = aws_s3_bucket.logs
            }

            moved {
              from = aws_sqs_queue.work_queue
              to   = aws_sqs_queue.jobs
            }

            moved {
              from = module.network_prod
              to   = module.network
            }

            """)
        #expect(report.moves.count == 6)
    }

    @Test func resourcesInSomeEnvironmentsGetAFlag() {
        let report = assess(Self.renamed)
        #expect(report.conditionals.map(\.address) == ["aws_cloudwatch_dashboard.ops", "aws_instance.bastion"])
        let dashboard = report.conditionals[0], bastion = report.conditionals[1]
        #expect(dashboard.environments == ["prod"])
        #expect(dashboard.missing == ["dev", "stage"])
        #expect(dashboard.argument == "count = var.enable_ops ? 1 : 0")
        // An existing count keeps the address, so no move; the flag is folded into it.
        #expect(bastion.environments == ["dev", "stage"])
        #expect(bastion.argument == "count = var.enable_bastion ? 1 : 0")
        #expect(!report.moves.contains { $0.from.hasPrefix("aws_instance.") })
        #expect(report.configFiles["config/prod/main.tfvars"] == "enable_ops = true\nenable_bastion = false\n")
        #expect(report.configFiles["config/dev/main.tfvars"] == "enable_ops = false\nenable_bastion = true\n")
        let step = report.steps.first { $0.hasPrefix("3.") } ?? ""
        #expect(step.contains("- aws_cloudwatch_dashboard.ops is only in prod, not in dev, stage: it becomes conditional on the config flag 'enable_ops'"))
        #expect(step.contains("- prod (envs/prod): module.network_prod → module.network"))
    }

    @Test func sameAddressesNeedNoMoves() {
        let report = assess([
            "envs/dev/main.tf": Self.environment("dev", logs: "logs", network: "network", queue: "jobs"),
            "envs/prod/main.tf": Self.environment("prod", logs: "logs", network: "network", queue: "jobs"),
        ])
        #expect(report.moves.isEmpty)
        #expect(report.conditionals.isEmpty)
        #expect(report.movedBlocks.isEmpty)
        #expect(report.steps.contains { $0.contains("No moved blocks are needed: every resource and module call has the same address in every environment directory.") })
    }

    @Test func differentResourcesOfOneTypeAreNotMatched() {
        let report = assess([
            "envs/dev/main.tf": "resource \"aws_s3_bucket\" \"assets\" {\n  bucket = \"acme-dev-assets\"\n}\n",
            "envs/prod/main.tf": "resource \"aws_s3_bucket\" \"backups\" {\n  bucket = \"acme-prod-backups\"\n  acl    = \"private\"\n}\n",
        ])
        #expect(report.conditionals.map(\.address) == ["aws_s3_bucket.assets", "aws_s3_bucket.backups"])
        #expect(report.moves.map { "\($0.env): \($0.from) → \($0.to)" } == [
            "dev: aws_s3_bucket.assets → aws_s3_bucket.assets[0]",
            "prod: aws_s3_bucket.backups → aws_s3_bucket.backups[0]",
        ])
    }

    @Test func anExistingNameIsKeptOverAStrippedOne() {
        // dev's 'logs' and 'dev_logs' are two buckets; prod's 'prod_logs' matches 'dev_logs' by body.
        let report = assess([
            "envs/dev/main.tf": """
                resource "aws_s3_bucket" "logs" {
                  bucket = "acme-audit"
                }

                resource "aws_s3_bucket" "dev_logs" {
                  bucket = "acme-dev-logs"
                  acl    = "log-delivery-write"
                }

                """,
            "envs/prod/main.tf": """
                resource "aws_s3_bucket" "logs" {
                  bucket = "acme-audit"
                }

                resource "aws_s3_bucket" "prod_logs" {
                  bucket = "acme-prod-logs"
                  acl    = "log-delivery-write"
                }

                """,
        ])
        // 'logs' is taken by the bucket both already call 'logs'; the pair keeps prod's name.
        #expect(report.moves.map { "\($0.env): \($0.from) → \($0.to)" } == ["dev: aws_s3_bucket.dev_logs → aws_s3_bucket.prod_logs"])
        #expect(report.conditionals.isEmpty)
    }
}
