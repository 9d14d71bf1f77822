data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = "acme-prod-tfstate"
    key    = "network/terraform.tfstate"
    region = "eu-west-1"
  }
}

resource "aws_db_subnet_group" "main" {
  name       = "acme-db"
  subnet_ids = data.terraform_remote_state.network.outputs.private_subnet_ids
}

resource "aws_db_instance" "main" {
  identifier           = "acme-db"
  engine               = "postgres"
  engine_version       = "15.5"
  instance_class       = var.instance_class
  allocated_storage    = var.storage_gb
  db_subnet_group_name = aws_db_subnet_group.main.name
  skip_final_snapshot  = false
}

variable "instance_class" {
  type = string
}

variable "storage_gb" {
  type = number
}

output "address" {
  value = aws_db_instance.main.address
}
