a = x.0.b
