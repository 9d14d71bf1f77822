variable "name" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "replicas" {
  type = number
}

variable "tags" {
  type = map(string)
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags
}
