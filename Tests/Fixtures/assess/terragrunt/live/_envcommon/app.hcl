locals {
  environment_vars = read_terragrunt_config(find_in_parent_folders("env.hcl"))
  env              = local.environment_vars.locals.environment
  base_source_url  = "git::git@github.com:acme/infrastructure-modules.git//ecs-service"
}

terraform {
  source = "${local.base_source_url}?ref=v2.4.1"
}

dependency "vpc" {
  config_path = "${get_terragrunt_dir()}/../vpc"
}

dependency "database" {
  config_path = "${get_terragrunt_dir()}/../database"
}

inputs = {
  name          = "acme-app-${local.env}"
  subnet_ids    = dependency.vpc.outputs.private_subnet_ids
  database_host = dependency.database.outputs.address
}
