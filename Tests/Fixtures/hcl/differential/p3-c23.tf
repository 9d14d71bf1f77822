a = x .0
