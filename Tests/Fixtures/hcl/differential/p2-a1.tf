a = x.*.b[*].c
