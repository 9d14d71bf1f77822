a = [<<EOF
x
EOF]
