a = x.*
.b
