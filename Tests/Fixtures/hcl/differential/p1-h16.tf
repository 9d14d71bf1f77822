a = (<<EOF
x
EOF
)
