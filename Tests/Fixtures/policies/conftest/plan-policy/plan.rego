package main

import rego.v1

deny_delete contains msg if {
	some change in input.resource_changes
	"delete" in change.change.actions
	msg := sprintf("%s is deleted", [change.address])
}

deny contains msg if {
	some change in input.resource_changes
	"delete" in change.change.actions
	change.mode == "data"
	msg := sprintf("%s: a data source cannot be deleted", [change.address])
}

warn_created contains msg if {
	some change in input.resource_changes
	change.change.actions == ["create"]
	msg := sprintf("%s is created", [change.address])
}

# Deletes are allowed in dev.
exception contains ["delete"] if data.tollgate.env == "dev"
