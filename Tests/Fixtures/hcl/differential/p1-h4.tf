a = { k = <<EOF
x
EOF
}
