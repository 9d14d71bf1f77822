a = x.
0
