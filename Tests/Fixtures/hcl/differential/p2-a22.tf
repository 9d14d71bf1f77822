a = [x
.b]
