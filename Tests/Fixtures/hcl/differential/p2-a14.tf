a = x[*].b.0.c
