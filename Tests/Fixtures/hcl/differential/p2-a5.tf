a = x[*].b.*.c
