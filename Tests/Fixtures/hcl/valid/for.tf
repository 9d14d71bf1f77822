upper_names = [for s in var.list : upper(s)]
filtered    = [for i, v in var.list : v if i > 0]
mapped      = { for k, v in var.map : k => v * 2 }
grouped     = { for s in var.servers : s.zone => s.name... }
conditional = { for k, v in var.map : upper(k) => v if v != null }
multiline = [
  for item in var.items :
  item.id
  if item.enabled
]
