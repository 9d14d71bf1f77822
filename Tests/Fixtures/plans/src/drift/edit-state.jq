# Simulates "deleted outside Terraform". The null provider's Read is a no-op,
# but its SDK (helper/schema v1) treats an empty id as a vanished object and
# returns a null state from refresh, which Terraform records as drift.
.serial += 1
| (.resources[]
   | select(.mode == "managed" and .type == "null_resource" and .name == "gone")
   | .instances[].attributes.id) = ""
