x = <<EOT
unterminated ${
