project = "acme-sandbox"
