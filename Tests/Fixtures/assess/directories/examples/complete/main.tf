provider "aws" {
  region = "eu-west-1"
}

module "vpc" {
  source = "../../modules/vpc"

  name = "example"
  cidr = "10.99.0.0/16"
  azs  = ["eu-west-1a"]
}
