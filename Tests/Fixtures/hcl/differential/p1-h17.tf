a = true ? <<EOF
x
EOF
: "b"
