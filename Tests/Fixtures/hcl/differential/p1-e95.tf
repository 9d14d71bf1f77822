a = <<-EOF
  x
  EOF
