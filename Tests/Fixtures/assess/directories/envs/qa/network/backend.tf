terraform {
  required_version = ">= 1.5.0"

  backend "s3" {
    bucket         = "acme-qa-tfstate"
    key            = "network/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "acme-qa-tflock"
    encrypt        = true
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
  }
}
