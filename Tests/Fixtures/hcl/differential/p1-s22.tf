a = x.0e1
