a = (x
.b)
