variable "name" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "database_host" {
  type = string
}

variable "replicas" {
  type = number
}

resource "aws_ecs_cluster" "this" {
  name = var.name
}

resource "aws_ecs_service" "this" {
  name          = var.name
  cluster       = aws_ecs_cluster.this.id
  desired_count = var.replicas

  network_configuration {
    subnets = var.subnet_ids
  }
}
