attribute   = aws_instance.web.id
index       = var.list[0]
map_index   = var.map["key"]
legacy      = var.list.0.name
attr_splat  = aws_instance.web.*.id
full_splat  = aws_instance.web[*].network_interface[0].id
call        = lookup(var.map, "key", "default")
nested_call = join(",", concat(var.a, var.b))
expand      = max(var.numbers...)
no_args     = timestamp()
provider_fn = provider::terraform::encode_tfvars({ a = 1 })
