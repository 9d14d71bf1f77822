secret = "fixture-secret-value"
