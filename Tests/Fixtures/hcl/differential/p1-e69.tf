a = { k = v, }
