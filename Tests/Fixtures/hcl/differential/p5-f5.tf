a = x[ # c
*]
