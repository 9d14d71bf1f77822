a = f(<<EOF
x
EOF
, 2)
