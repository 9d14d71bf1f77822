a = <<EOF
x
EOF  
