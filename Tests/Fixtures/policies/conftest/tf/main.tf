terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "subnets" {
  type    = list(string)
  default = []
}

locals {
  name  = "logs-${var.env}"
  count = -2
  flags = [true, !false, null, 1.5]
}

resource "aws_s3_bucket" "logs" {
  bucket = local.name
  tags = {
    owner       = "platform"
    "cost-center" = upper(var.team)
  }

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket" "site" {
  bucket = "${var.site}"
}

resource "aws_s3_bucket_acl" "site" {
  bucket = aws_s3_bucket.site.id
  acl    = var.public ? "public-read" : "private"
}

output "names" {
  value = [for b in aws_s3_bucket.logs : b.id if b.id != ""]
}

output "banner" {
  value = <<-EOT
    Hello %{if var.loud}LOUD%{else}quiet%{endif} world
    EOT
}
