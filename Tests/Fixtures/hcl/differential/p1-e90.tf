a = (x)
