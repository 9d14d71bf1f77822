a = x < y < z
