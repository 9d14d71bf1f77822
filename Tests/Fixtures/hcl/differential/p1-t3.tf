a = "%{ for i in l }${i}%{ endfor }"
