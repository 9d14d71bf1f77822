a = x.for
