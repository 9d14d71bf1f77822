a = "%{ for in l }%{ endfor }"
