terraform {
  required_version = ">= 1.0.0"
  backend "s3" {}
}

resource "aws_instance" "web" {
  ami           = "ami-123"
  instance_type = var.size

  tags = {
    Name = "web"
  }

  lifecycle {
    prevent_destroy = true
  }
}

provider aws {
  region = "eu-west-1"
}

locals { one_line = true }

module "vpc" {
  source = "./modules/vpc"
}

empty "block" {
}
