include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/database.hcl"
  expose = true
}

inputs = {
  instance_class = "db.t4g.small"
  storage_gb     = 20
}
