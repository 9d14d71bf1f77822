terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

# null_resource.removed and module.child are gone from the configuration;
# null_resource.counted shrinks from 2 instances to 1.
resource "null_resource" "kept" {}

resource "null_resource" "counted" {
  count = 1
}
