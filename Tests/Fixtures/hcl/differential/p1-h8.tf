a = <<EOF
x
  EOF
