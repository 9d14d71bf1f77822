# Every created or updated null_resource carries an owner in its triggers (the null provider's tags).
package main

import rego.v1

deny_tags contains {"msg": msg, "address": r.address} if {
	some r in input.resource_changes
	r.type == "null_resource"
	some action in r.change.actions
	action in {"create", "update"}
	not r.change.after.triggers.owner
	msg := sprintf("%s has no 'owner' tag; add triggers.owner", [r.address])
}
