a = x .b
