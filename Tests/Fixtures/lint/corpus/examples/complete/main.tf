provider "aws" {
  region = "eu-west-1"
}

module "vpc" {
  source = "../../modules/vpc"

  name        = "complete-example"
  environment = "dev"
  cidr        = "10.0.0.0/16"
  azs         = ["eu-west-1a", "eu-west-1b"]
}

module "logs" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"

  bucket = "complete-example-logs"
}

module "label" {
  source = "git::https://github.com/example/terraform-null-label.git"

  namespace = "eg"
  stage     = var.stage
  name      = "complete"
}

variable "stage" {
  description = "Stage, e.g. 'prod', 'staging', 'dev', OR 'source', 'build', 'test', 'deploy', 'release'"
  type        = string
  default     = null
}
