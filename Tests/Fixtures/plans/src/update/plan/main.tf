terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

# Planned second: same value, but now sensitive. null_resource's only
# argument (triggers) is ForceNew, so a sensitivity-only change is the one way
# to get a genuine in-place ["update"] out of the null provider.
variable "token" {
  type      = string
  default   = "fixture-token-value"
  sensitive = true
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
  value = "two"
}
