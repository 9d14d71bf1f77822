terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

resource "null_resource" "kept" {}

resource "null_resource" "removed" {}

resource "null_resource" "counted" {
  count = 2
}

module "child" {
  source = "./modules/child"

  upstream_id = null_resource.kept.id
  instances   = 1
}
