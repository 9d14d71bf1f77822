a = !!x
