account_id = "333333333333"
cidr       = "10.30.0.0/16"
azs        = ["eu-west-1a", "eu-west-1b"]
