terraform {
  required_providers {
    null = {
      source = "hashicorp/null"
    }
  }
}

variable "upstream_id" {
  type = string
}

variable "instances" {
  type    = number
  default = 1
}

resource "null_resource" "this" {
  count = var.instances

  triggers = {
    upstream = var.upstream_id
    index    = count.index
  }
}

output "ids" {
  value = null_resource.this[*].id
}
