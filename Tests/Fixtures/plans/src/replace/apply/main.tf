terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

# Replaced destroy-then-create (default ordering).
resource "null_resource" "destroy_first" {
  triggers = {
    rev = "1"
  }
}

# Replaced create-then-destroy.
resource "null_resource" "create_first" {
  triggers = {
    rev = "1"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# Replaced only because it references destroy_first.id, which becomes unknown.
resource "null_resource" "dependent" {
  triggers = {
    upstream = null_resource.destroy_first.id
  }
}

# Unchanged config; replaced through "plan -replace=null_resource.forced".
resource "null_resource" "forced" {
  triggers = {
    static = "1"
  }
}

resource "null_resource" "untouched" {
  triggers = {
    static = "1"
  }
}
