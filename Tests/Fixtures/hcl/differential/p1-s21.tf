a = x
.b
