a { b = 1
