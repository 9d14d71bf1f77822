terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

# Applied, then planned again unchanged (no plan/ directory: the applied
# configuration is re-planned).
resource "null_resource" "a" {
  triggers = {
    static = "1"
  }
}

resource "null_resource" "b" {
  triggers = {
    a_id = null_resource.a.id
  }
}

output "b_id" {
  value = null_resource.b.id
}
