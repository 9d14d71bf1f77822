empty_tuple  = []
tuple        = [1, "two", true, null]
trailing     = [
  "a",
  "b",
]
object       = { a = 1, b = "two" }
colon_object = { "quoted key": 1, bare: 2 }
multiline = {
  name = "x"
  size = 3
  nested = {
    deep = [1, 2]
  }
}
paren_key = {
  (var.key) = "computed key"
}
