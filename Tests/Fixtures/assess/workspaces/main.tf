terraform {
  required_version = ">= 1.5.0"

  backend "s3" {
    bucket               = "acme-tfstate"
    key                  = "platform/terraform.tfstate"
    region               = "eu-west-1"
    workspace_key_prefix = "workspaces"
    dynamodb_table       = "acme-tflock"
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
  }
}

provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]
}

locals {
  name = "acme-${terraform.workspace}"
  tags = {
    Environment = terraform.workspace
    ManagedBy   = "terraform"
  }
}

module "network" {
  source = "./modules/network"

  name = local.name
  cidr = var.cidr
  tags = local.tags
}

module "app" {
  source = "./modules/app"

  name       = local.name
  subnet_ids = module.network.subnet_ids
  replicas   = var.replicas
  tags       = local.tags
}
