a = <<EOF
${<<X
inner
X
}
EOF
