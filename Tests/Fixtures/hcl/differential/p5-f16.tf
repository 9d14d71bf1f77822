a = {
  k = x
  (y) = 1
}
