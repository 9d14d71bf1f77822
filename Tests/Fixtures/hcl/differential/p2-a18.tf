a = x.1e+2
