a = x-y
