a = x.0e1.b
