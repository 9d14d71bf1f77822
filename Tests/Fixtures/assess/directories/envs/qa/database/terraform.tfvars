account_id     = "222222222222"
instance_class = "db.t4g.small"
storage_gb     = 20
