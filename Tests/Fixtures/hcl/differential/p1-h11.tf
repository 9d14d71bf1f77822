a = <<EOF
x
EOFX
EOF
