account_id = "444444444444"
replicas   = 6
