account_id = "111111111111"
cidr       = "10.10.0.0/16"
azs        = ["eu-west-1a", "eu-west-1b"]
