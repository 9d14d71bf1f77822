a = { k = <<-EOF
   x
   EOF
  j = 1 }
