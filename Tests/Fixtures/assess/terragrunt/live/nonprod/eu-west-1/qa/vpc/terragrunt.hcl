include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/vpc.hcl"
  expose = true
}

inputs = {
  cidr = "10.20.0.0/16"
  azs  = ["eu-west-1a", "eu-west-1b"]
}
