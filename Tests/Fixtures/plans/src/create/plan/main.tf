terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

variable "prefix" {
  type    = string
  default = "fixture"

  validation {
    condition     = length(var.prefix) > 0
    error_message = "The prefix must not be empty."
  }
}

resource "null_resource" "a" {
  triggers = {
    name = "${var.prefix}-a"
  }
}

resource "null_resource" "b" {
  triggers = {
    a_id = null_resource.a.id
  }
}

resource "null_resource" "each" {
  for_each = toset(["x", "y"])

  triggers = {
    key = each.key
  }
}

module "child" {
  source = "./modules/child"

  upstream_id = null_resource.a.id
  instances   = 2
}

resource "null_resource" "after_child" {
  depends_on = [module.child]
}

output "a_id" {
  value = null_resource.a.id
}

output "child_ids" {
  value = module.child.ids
}
