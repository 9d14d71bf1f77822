account_id     = "111111111111"
instance_class = "db.t4g.small"
storage_gb     = 20
