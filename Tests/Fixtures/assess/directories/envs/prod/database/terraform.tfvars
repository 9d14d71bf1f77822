account_id     = "444444444444"
instance_class = "db.r6g.large"
storage_gb     = 200
