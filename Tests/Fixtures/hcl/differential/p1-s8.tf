a = x.0
