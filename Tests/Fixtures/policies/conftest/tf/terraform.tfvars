region = "eu-central-1"
team   = "payments"
