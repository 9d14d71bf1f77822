a = x]
