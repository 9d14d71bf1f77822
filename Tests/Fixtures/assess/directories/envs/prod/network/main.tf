module "vpc" {
  source = "../../../modules/vpc"

  name = "acme"
  cidr = var.cidr
  azs  = var.azs
}

variable "cidr" {
  type = string
}

variable "azs" {
  type = list(string)
}

output "vpc_id" {
  value = module.vpc.vpc_id
}

output "private_subnet_ids" {
  value = module.vpc.private_subnet_ids
}
