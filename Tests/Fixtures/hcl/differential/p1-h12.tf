a = f(<<EOF
x
EOF
)
