a = x. 0
