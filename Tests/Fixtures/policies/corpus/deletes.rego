# Deny deleting or replacing anything in prod; elsewhere it is only a warning.
package main

import rego.v1

destroys(change) if "delete" in change.actions

deny contains msg if {
	data.tollgate.env == "prod"
	some r in input.resource_changes
	destroys(r.change)
	msg := sprintf("%s would be destroyed in prod (actions %v); ship a forward change instead", [r.address, r.change.actions])
}

warn contains msg if {
	data.tollgate.env != "prod"
	some r in input.resource_changes
	destroys(r.change)
	msg := sprintf("%s would be destroyed in %s", [r.address, data.tollgate.env])
}
