account_id = "222222222222"
replicas   = 1
