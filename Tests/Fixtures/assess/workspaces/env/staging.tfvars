account_id = "333333333333"
cidr       = "10.30.0.0/16"
replicas   = 2
