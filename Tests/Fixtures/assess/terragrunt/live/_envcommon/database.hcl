locals {
  environment_vars = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  env              = local.environment_vars.locals.environment
  base_source_url  = "git::git@github.com:acme/infrastructure-modules.git//database"
}

terraform {
  source = "${local.base_source_url}?ref=v2.3.0"
}

dependency "vpc" {
  config_path = "../vpc"

  mock_outputs = {
    vpc_id             = "vpc-mock"
    private_subnet_ids = ["subnet-mock"]
  }
}

inputs = {
  identifier = "acme-${local.env}"
  engine     = "postgres"
  subnet_ids = dependency.vpc.outputs.private_subnet_ids
}
