a {
  b = 1
  c {
    b = 2
  }
}
