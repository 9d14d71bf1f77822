a = x.y.*.z
