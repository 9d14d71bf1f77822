a = { k = [x
 .b] }
