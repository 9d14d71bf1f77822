terraform {
  backend "s3" {
    bucket = "acme-global-tfstate"
    key    = "dns/terraform.tfstate"
    region = "eu-west-1"
  }
}

provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = ["555555555555"]
}

resource "aws_route53_zone" "main" {
  name = "acme.example"
}
