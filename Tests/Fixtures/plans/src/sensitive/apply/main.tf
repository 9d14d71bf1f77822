terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

variable "secret" {
  type      = string
  sensitive = true
}

# Replaced (rev changes) so both before_sensitive and after_sensitive carry marks.
resource "null_resource" "holder" {
  triggers = {
    secret = var.secret
    rev    = "1"
  }
}
