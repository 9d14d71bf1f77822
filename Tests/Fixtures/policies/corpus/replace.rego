# Destroy-before-create replacements cause downtime: a warning, with the stack's name.
package main

import rego.v1

warn_replace contains msg if {
	some r in input.resource_changes
	r.change.actions == ["delete", "create"]
	msg := sprintf("%s/%s: %s is destroyed before it is re-created; consider create_before_destroy", [data.tollgate.stack, data.tollgate.env, r.address])
}
