a = [<<EOF
x
EOF
]
