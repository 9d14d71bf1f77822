a = x)
