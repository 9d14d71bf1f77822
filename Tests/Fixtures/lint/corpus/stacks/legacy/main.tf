terraform {
  backend "s3" {}
}

provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = [local.accounts[local.env]]
}

locals {
  env = terraform.workspace

  accounts = {
    dev   = "111111111111"
    stage = "222222222222"
    prod  = "333333333333"
  }

  queue_name = "orders-${local.env}"
  dlq_name   = "orders_stage_dlq"
  size       = local.env == "prod" ? 3 : 1
}

resource "aws_sqs_queue" "orders" {
  name                      = local.queue_name
  message_retention_seconds = endswith(local.env, "prod") ? 1209600 : 345600
  tags = {
    Environment = "Stage"
  }
}

resource "aws_sqs_queue" "dead_letter" {
  name = local.dlq_name
}
