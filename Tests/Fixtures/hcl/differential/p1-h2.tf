a = [<<EOF
x
EOF
, "y"]
