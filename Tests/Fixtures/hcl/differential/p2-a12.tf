a = x.* .b
