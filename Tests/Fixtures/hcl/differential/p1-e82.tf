a = x!
