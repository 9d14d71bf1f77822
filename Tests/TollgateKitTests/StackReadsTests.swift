import Foundation
import Testing
@testable import TollgateKit
import TollgateCore

/// What a stack's code reads of other stacks' outputs, and what the running release protects.
@Suite struct StackReadsTests {
    let stacks = [
        Stack(name: Located("network")),
        Stack(name: Located("dns")),
        Stack(name: Located("app"), dependsOn: [Located("network")]),
    ]

    func files(_ app: String, path: String = "stacks/app/main.tf") -> [String: [UInt8]] {
        [path: Array(app.utf8), "stacks/app/modules/inner/main.tf": Array(#"data "terraform_remote_state" "dns" {}"#.utf8)]
    }

    @Test func namedOutputsIndexedOutputsAndWholeObjectsAreRead() {
        let code = """
            data "terraform_remote_state" "network" {
              backend = "local"
              config = { path = var.network_state }
            }
            data "terraform_remote_state" "names" {
              backend = "s3"
              config = {
                bucket = "state"
                key    = "${var.env}/dns/terraform.tfstate"
              }
            }
            resource "null_resource" "server" {
              count = length(data.terraform_remote_state.network.outputs.subnet_ids)
              triggers = {
                vpc    = data.terraform_remote_state.network.outputs["vpc_id"]
                subnet = data.terraform_remote_state.network.outputs.subnet_ids[count.index]
                zone   = jsonencode(data.terraform_remote_state.names.outputs)
              }
            }
            """
        let reads = StackReads.reads(of: stacks[2], stacks: stacks, files: files(code))
        #expect(reads == [
            RemoteStateRead(upstream: "dns", dataSource: "names", outputs: nil),
            RemoteStateRead(upstream: "network", dataSource: "network", outputs: ["subnet_ids", "vpc_id"]),
        ])
        #expect(reads[1].reads(any: ["vpc_id", "other"]))
        #expect(!reads[1].reads(any: ["other"]))
        #expect(reads[0].reads(any: ["anything"]))
        #expect(!reads[0].reads(any: []))
    }

    @Test func aDataSourceMatchesByItsConfigOrTheOnlyDependency() {
        // No stack name anywhere: the only depends_on is the upstream.
        let unnamed = """
            data "terraform_remote_state" "base" {
              backend = "local"
              config = { path = var.state }
            }
            output "x" { value = data.terraform_remote_state.base.outputs.vpc_id }
            """
        #expect(StackReads.reads(of: stacks[2], stacks: stacks, files: files(unnamed))
            == [RemoteStateRead(upstream: "network", dataSource: "base", outputs: ["vpc_id"])])
        // Without a depends_on and without a name to go by, it is no read of the pipeline's.
        let loose = Stack(name: Located("app"))
        #expect(StackReads.reads(of: loose, stacks: stacks, files: files(unnamed)).isEmpty)
        // A data source declared but never read is no read either.
        let unread = #"data "terraform_remote_state" "network" {}"# + "\noutput \"y\" { value = var.z }\n"
        #expect(StackReads.reads(of: stacks[2], stacks: stacks, files: files(unread)).isEmpty)
    }

    @Test func onlyTheRootModulesOwnFilesAreRead() {
        let other = files("output \"a\" { value = data.terraform_remote_state.dns.outputs.zone }\n", path: "stacks/app/main.tf")
        #expect(StackReads.reads(of: stacks[2], stacks: stacks, files: other).isEmpty)
    }

    @Test func protectedResourcesFollowLocalModuleCalls() {
        let files: [String: [UInt8]] = [
            "stacks/data/main.tf": Array("""
                resource "aws_s3_bucket" "logs" {
                  lifecycle {
                    prevent_destroy = true
                  }
                }
                resource "aws_s3_bucket" "scratch" {
                  lifecycle {
                    prevent_destroy = false
                  }
                }
                module "db" { source = "../../modules/db" }
                module "remote" { source = "terraform-aws-modules/rds/aws" }
                """.utf8),
            "modules/db/main.tf": Array("""
                resource "aws_db_instance" "main" {
                  lifecycle {
                    prevent_destroy = true
                  }
                }
                module "replica" { source = "./replica" }
                """.utf8),
            "modules/db/replica/main.tf": Array("resource \"aws_db_instance\" \"copy\" {\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n".utf8),
        ]
        #expect(ProtectedResources.addresses(stackPath: "stacks/data", files: files)
            == ["aws_s3_bucket.logs", "module.db.aws_db_instance.main", "module.db.module.replica.aws_db_instance.copy"])
    }

    @Test func aModuleThatCallsItselfEnds() {
        let files: [String: [UInt8]] = [
            "stacks/s/main.tf": Array((#"module "loop" { source = "./" }"# + "\n" + "resource \"a\" \"b\" {\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n").utf8),
        ]
        let found = ProtectedResources.addresses(stackPath: "stacks/s", files: files)
        #expect(found.contains("a.b"))
        #expect(found.contains(String(repeating: "module.loop.", count: 32) + "a.b"))
        #expect(found.count == 33)
    }
}
