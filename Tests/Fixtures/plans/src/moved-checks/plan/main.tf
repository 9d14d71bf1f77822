variable "replicas" {
  type    = number
  default = 3
}

resource "null_resource" "web" {
  triggers = { role = "web" }
}

moved {
  from = null_resource.old_name
  to   = null_resource.web
}

resource "null_resource" "extra" {
  triggers = { role = "worker" }
}

check "replicas_small" {
  assert {
    condition     = var.replicas < 2
    error_message = "replicas must stay below 2 in this fixture"
  }
}
