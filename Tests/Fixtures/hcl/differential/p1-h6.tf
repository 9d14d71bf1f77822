a = [for s in l : <<EOF
${s}
EOF
]
