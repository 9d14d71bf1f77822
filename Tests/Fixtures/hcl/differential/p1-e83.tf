a = x && || y
