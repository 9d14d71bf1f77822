text = <<EOT
no end marker
