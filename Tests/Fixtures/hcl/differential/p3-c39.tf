a = x.*. b
