account_id = "111111111111"
replicas   = 1
