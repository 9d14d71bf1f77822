account_id     = "333333333333"
instance_class = "db.t4g.medium"
storage_gb     = 50
