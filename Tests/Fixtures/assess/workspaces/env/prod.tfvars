account_id = "444444444444"
cidr       = "10.40.0.0/16"
replicas   = 4
