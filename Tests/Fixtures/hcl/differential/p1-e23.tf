a = x.y()
