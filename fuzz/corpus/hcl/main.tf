terraform {
  required_version = ">= 1.5"
  backend "s3" {}
}

locals {
  name  = "${var.prefix}-%{ if var.env != "" }${var.env}%{ else }default%{ endif }"
  ports = [for p in var.ports : p * 2 if p > 0]
  tags  = { for k, v in var.tags : lower(k) => v... }
  deep  = [[{ a = (1 + 2) * -3 % 4 }], var.list[*].id, var.map.*.name, try(var.x[0]["k"], null)]
  doc   = <<-EOT
    hello ${upper(var.name)}
      %{~ for x in ["a", "b"] ~}
    ${x}
    %{~ endfor ~}
    EOT
}

resource "aws_instance" "web" {
  count = var.enabled ? 3 : 0
  ami   = "ami-\u00e9\\\"x"
  lifecycle { prevent_destroy = true }
  dynamic "ebs" {
    for_each = toset(var.disks)
    content { size = ebs.value }
  }
}
