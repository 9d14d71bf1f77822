account_id = "333333333333"
replicas   = 3
