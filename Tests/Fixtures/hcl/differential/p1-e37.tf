a = x == y != z
