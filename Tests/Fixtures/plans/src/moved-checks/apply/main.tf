variable "replicas" {
  type    = number
  default = 3
}

resource "null_resource" "old_name" {
  triggers = { role = "web" }
}

check "replicas_small" {
  assert {
    condition     = var.replicas < 2
    error_message = "replicas must stay below 2 in this fixture"
  }
}
