data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = "acme-prod-tfstate"
    key    = "network/terraform.tfstate"
    region = "eu-west-1"
  }
}

data "terraform_remote_state" "database" {
  backend = "s3"
  config = {
    bucket = "acme-prod-tfstate"
    key    = "database/terraform.tfstate"
    region = "eu-west-1"
  }
}

module "service" {
  source = "../../../modules/service"

  name          = "acme-app"
  subnet_ids    = data.terraform_remote_state.network.outputs.private_subnet_ids
  database_host = data.terraform_remote_state.database.outputs.address
  replicas      = var.replicas
}

variable "replicas" {
  type = number
}
