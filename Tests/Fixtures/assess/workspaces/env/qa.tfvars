account_id = "222222222222"
cidr       = "10.20.0.0/16"
replicas   = 1
