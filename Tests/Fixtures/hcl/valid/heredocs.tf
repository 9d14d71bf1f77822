plain = <<EOT
line one
  line two ${var.name}
EOT

indented = <<-EOT
    first
      second
    third
    EOT

policy = <<POLICY
{
  "Version": "2012-10-17"
}
POLICY
