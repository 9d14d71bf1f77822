terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

resource "null_resource" "a" {}

resource "null_resource" "new" {}

output "changed" {
  value = "after"
}

output "unchanged" {
  value = "same"
}

output "was_sensitive" {
  value     = "hidden-after"
  sensitive = true
}

output "added_sensitive" {
  value     = "fixture-secret-output"
  sensitive = true
}

output "added_unknown" {
  value = null_resource.new.id
}

output "added_object" {
  value = {
    id   = null_resource.a.id
    tags = ["x", "y"]
  }
}
