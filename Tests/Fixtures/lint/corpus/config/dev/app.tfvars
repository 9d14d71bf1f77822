environment = "dev"
project_id  = "shop-dev"
account_id = "111111111111"
