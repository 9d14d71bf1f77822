a = [for = 1]
