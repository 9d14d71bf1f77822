# hash comment
// slash comment
/* block
   comment */
name = "value" # trailing
count = 3 // trailing
/* inline */ other = true
