environment = "stage"
project_id  = "shop-stage"
account_id = "222222222222"
