a = {
 k = v,
 j = w
}
