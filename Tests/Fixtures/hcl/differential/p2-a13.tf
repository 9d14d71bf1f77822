a = x[*] .b
