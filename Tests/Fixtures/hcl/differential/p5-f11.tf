a = { k = x
 .b }
