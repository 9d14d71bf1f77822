include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "git::git@github.com:acme/infrastructure-modules.git//iam-roles?ref=v1.0.2"
}

inputs = {
  roles = ["deploy", "read-only"]
}
