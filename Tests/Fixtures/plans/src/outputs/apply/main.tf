terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

resource "null_resource" "a" {}

output "changed" {
  value = "before"
}

output "unchanged" {
  value = "same"
}

output "removed" {
  value = "bye"
}

output "was_sensitive" {
  value     = "hidden-before"
  sensitive = true
}
