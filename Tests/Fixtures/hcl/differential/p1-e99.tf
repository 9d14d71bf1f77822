a = x.y[*]
