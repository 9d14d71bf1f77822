terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "2.1.2"
    }
  }
}

# Applied, then edit-state.jq blanks null_resource.gone's id in the state
# (out-of-band edit), then the same configuration is planned again.
resource "null_resource" "kept" {
  triggers = {
    static = "1"
  }
}

resource "null_resource" "gone" {
  triggers = {
    static = "1"
  }
}

resource "null_resource" "watcher" {
  triggers = {
    gone_id = null_resource.gone.id
  }
}
