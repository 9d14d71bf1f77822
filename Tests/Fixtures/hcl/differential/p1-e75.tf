a = [for k, in m : v]
