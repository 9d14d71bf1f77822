a = { k = v j = 2 }
