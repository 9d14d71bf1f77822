a {
 x = 
 y = 2
}
