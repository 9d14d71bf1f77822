cidr_block   = "10.0.0.0/16"
subnet_count = 3
zones        = ["a", "b"]
tags = {
  team  = "platform"
  owner = "ops"
}
enabled = true
