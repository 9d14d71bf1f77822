terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

# Applied first: the variable is NOT sensitive.
variable "token" {
  type    = string
  default = "fixture-token-value"
}

resource "null_resource" "a" {
  triggers = {
    token = var.token
  }
}

resource "null_resource" "unchanged" {
  triggers = {
    static = "1"
  }
}

output "stage" {
  value = "one"
}
