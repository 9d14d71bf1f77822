sum        = 1 + 2 * 3
grouped    = (1 + 2) * 3
compare    = var.a < 10 && var.b >= 2 || !var.c
equality   = var.env == "prod" != false
modulo     = 10 % 3 - 4 / 2
unary      = -var.x + !var.y
chained    = var.a ? var.b : var.c ? var.d : var.e
comparison = var.count > 0 ? var.count : 1
