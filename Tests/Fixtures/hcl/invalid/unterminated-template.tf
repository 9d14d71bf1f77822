value = "${var.name"
