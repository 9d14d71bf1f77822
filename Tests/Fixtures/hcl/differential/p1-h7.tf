a = jsonencode({
  p = <<-EOT
    {"a": 1}
  EOT
})
