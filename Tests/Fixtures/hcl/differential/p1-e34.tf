a b c {
}
