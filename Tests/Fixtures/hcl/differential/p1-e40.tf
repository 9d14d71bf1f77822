a = x -1
