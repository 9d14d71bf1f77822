locals {
  environment_vars = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  env              = local.environment_vars.locals.environment
  base_source_url  = "git::git@github.com:acme/infrastructure-modules.git//vpc"
}

terraform {
  source = "${local.base_source_url}?ref=v2.3.0"
}

inputs = {
  name = "acme-${local.env}"
}
