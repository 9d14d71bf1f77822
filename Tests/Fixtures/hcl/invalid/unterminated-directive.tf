value = "%{ if var.on }yes"
