environment = "prod"
project_id  = "shop-prod"
account_id = "333333333333"
