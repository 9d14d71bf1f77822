a = "%{ for x in l }%{ else }%{ endfor }"
