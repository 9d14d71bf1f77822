import Foundation

/// The files `tollgate init` writes: the layout a tollgate repository keeps, and with `--example`
/// two runnable stacks (`network`, and `app` depending on it) on the null provider.
///
/// Contents are plain values so tests can check them without touching the disk.
public enum Scaffold {
    public struct File: Sendable, Equatable {
        public var path: String
        public var contents: String
    }

    /// Every file to write, relative to the repository. `name` is the repository directory's
    /// name; the example keeps its state beside the repository in `../NAME-state/`.
    public static func files(example: Bool, name: String) -> [File] {
        example ? exampleFiles(name: name) : skeletonFiles(name: name)
    }

    /// Writes the files under `directory`, refusing to overwrite a pipeline unless `force`.
    @discardableResult
    public static func write(to directory: String, example: Bool, force: Bool) throws -> [String] {
        let manager = FileManager.default
        let pipeline = directory + "/tollgate.yaml"
        if manager.fileExists(atPath: pipeline), !force { throw KitError.alreadyInitialised(pipeline) }
        let name = URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent
        var written: [String] = []
        for file in files(example: example, name: name) {
            let path = directory + "/" + file.path
            do {
                try manager.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                if manager.fileExists(atPath: path), !force, file.path != "tollgate.yaml" { continue }
                try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                written.append(file.path)
            } catch {
                throw KitError.fileSystem(path: path, reason: error.localizedDescription)
            }
        }
        return written
    }

    static func pipeline(name: String, stacks: String, lint: String = "") -> String {
        """
        # tollgate pipeline: environments in promotion order, the stacks they deploy, and the gate each
        # environment puts in front of a change. Reference: docs/pipeline.md; schema: docs/tollgate.schema.json.
        version: 1

        engine:
          binary: terraform
          version: ">= 1.0.0, < 2.0.0"

        main_branch: main

        # Maps approvers' SSH public keys to principals (the format of ssh-keygen's allowed_signers).
        approvers: .tollgate/allowed_signers

        policies:
          path: policies
          namespaces: [main]
        \(lint)
        stacks:
        \(stacks)
        environments:
          - name: dev
            account: local-dev
            # Must print the account above; for AWS: aws sts get-caller-identity --query Account --output text
            identity: echo local-dev
            backend:
              type: local
              settings:
                path: ../\(name)-state/{env}/{stack}.tfstate
            gate: auto
            checks: [fmt, validate]

          - name: stage
            account: local-stage
            identity: echo local-stage
            backend:
              type: local
              settings:
                path: ../\(name)-state/{env}/{stack}.tfstate
            gate: on-merge
            checks: [fmt, validate]

          - name: prod
            account: local-prod
            identity: echo local-prod
            backend:
              type: local
              settings:
                path: ../\(name)-state/{env}/{stack}.tfstate
            gate:
              type: approval
              required: 1
              approvers: [approver@example.com]
              max_plan_age: 24h
            checks: [fmt, validate, destructive, policy]

        """
    }

    static let versions = """
        terraform {
          required_version = ">= 1.0.0"

          # Left partial on purpose: tollgate fills it per environment from tollgate.yaml.
          backend "local" {}

          required_providers {
            null = {
              source  = "hashicorp/null"
              version = "2.1.2"
            }
          }
        }

        """

    static func common(name: String) -> [File] {
        [
            File(path: ".tollgate/allowed_signers", contents: """
                # One line per approver key: PRINCIPAL [namespaces="tollgate"] KEY-TYPE PUBLIC-KEY
                # for example: approver@example.com namespaces="tollgate" ssh-ed25519 AAAA...

                """),
            File(path: ".gitignore", contents: """
                .terraform/
                .tollgate/ledger.sqlite*
                .tollgate/work/
                .tollgate/artifacts/
                *.tfstate
                *.tfstate.backup

                """),
            File(path: "policies/main.rego", contents: """
                # Policies follow conftest's conventions: rules named deny and warn in package main,
                # evaluated against the plan JSON.
                package main

                import rego.v1

                deny contains msg if {
                  some change in input.resource_changes
                  "delete" in change.change.actions
                  change.type == "null_resource"
                  startswith(change.name, "protected")
                  msg := sprintf("%s is protected and cannot be destroyed", [change.address])
                }

                """),
            File(path: "policies/main_test.rego", contents: """
                # Run with: tollgate policy test
                package main

                import rego.v1

                test_protected_delete_denied if {
                  count(deny) == 1 with input as {"resource_changes": [{
                    "address": "null_resource.protected_db", "type": "null_resource", "name": "protected_db",
                    "change": {"actions": ["delete"]},
                  }]}
                }

                test_other_delete_allowed if {
                  count(deny) == 0 with input as {"resource_changes": [{
                    "address": "null_resource.scratch", "type": "null_resource", "name": "scratch",
                    "change": {"actions": ["delete"]},
                  }]}
                }

                """),
        ]
    }

    static func skeletonFiles(name: String) -> [File] {
        common(name: name) + [
            File(path: "tollgate.yaml", contents: pipeline(name: name, stacks: "  - name: main\n")),
            File(path: "stacks/main/versions.tf", contents: versions),
            File(path: "stacks/main/main.tf", contents: "# Resources of the 'main' stack. No environment name belongs here: use variables.\n"),
            File(path: "modules/README.md", contents: "Reusable modules, called from stacks with `source = \"../../modules/NAME\"`.\n"),
        ] + ["dev", "stage", "prod"].map { File(path: "config/\($0)/main.tfvars", contents: "# Values for the 'main' stack in \($0).\n") }
    }

    static func exampleFiles(name: String) -> [File] {
        let sizes = [("dev", 0, 1, 1), ("stage", 1, 2, 2), ("prod", 2, 3, 3)]
        var files = common(name: name) + [
            File(path: "tollgate.yaml", contents: pipeline(name: name, stacks: """
                  - name: network
                  - name: app
                    depends_on: [network]

                """, lint: """

                lint:
                  # Variables whose values differ between environments on purpose (sizes and address
                  # ranges); 'tollgate diverge' reports any other key or value that differs.
                  expected_differences: [cidr_block, subnet_count, instance_count]

                """)),
            File(path: "stacks/network/versions.tf", contents: versions),
            File(path: "stacks/network/variables.tf", contents: """
                variable "cidr_block" {
                  type        = string
                  description = "Address range of the network."
                }

                variable "subnet_count" {
                  type        = number
                  description = "How many subnets to carve out of the network."
                }

                """),
            File(path: "stacks/network/main.tf", contents: """
                module "vpc" {
                  source = "../../modules/vpc"

                  cidr_block   = var.cidr_block
                  subnet_count = var.subnet_count
                }

                """),
            File(path: "stacks/network/outputs.tf", contents: """
                output "vpc_id" {
                  value = module.vpc.vpc_id
                }

                output "subnet_ids" {
                  value = module.vpc.subnet_ids
                }

                """),
            File(path: "modules/vpc/main.tf", contents: """
                variable "cidr_block" {
                  type = string
                }

                variable "subnet_count" {
                  type = number
                }

                resource "null_resource" "vpc" {
                  triggers = {
                    cidr_block = var.cidr_block
                  }
                }

                resource "null_resource" "subnet" {
                  count = var.subnet_count

                  triggers = {
                    vpc   = null_resource.vpc.id
                    index = count.index
                  }
                }

                output "vpc_id" {
                  value = null_resource.vpc.id
                }

                output "subnet_ids" {
                  value = null_resource.subnet[*].id
                }

                """),
            File(path: "stacks/app/versions.tf", contents: versions),
            File(path: "stacks/app/variables.tf", contents: """
                variable "instance_count" {
                  type        = number
                  description = "How many app servers to run."
                }

                variable "image_tag" {
                  type        = string
                  description = "The application image to deploy."
                }

                """),
            File(path: "stacks/app/main.tf", contents: """
                resource "null_resource" "server" {
                  count = var.instance_count

                  triggers = {
                    image_tag = var.image_tag
                    index     = count.index
                  }
                }

                """),
            File(path: "stacks/app/outputs.tf", contents: """
                output "server_ids" {
                  value = null_resource.server[*].id
                }

                """),
        ]
        for (env, octet, subnets, instances) in sizes {
            files.append(File(path: "config/\(env)/network.tfvars", contents: """
                cidr_block   = "10.\(octet).0.0/16"
                subnet_count = \(subnets)

                """))
            files.append(File(path: "config/\(env)/app.tfvars", contents: """
                instance_count = \(instances)
                image_tag      = "v1"

                """))
        }
        return files
    }
}
