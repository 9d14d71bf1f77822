ok = 1
name = "never closed
next = 2
