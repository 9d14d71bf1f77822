# A forbidden resource type, in its own namespace.
package types

import rego.v1

forbidden := {"null_resource": "terraform_data"}

violation contains msg if {
	some r in input.resource_changes
	r.mode == "managed"
	replacement := forbidden[r.type]
	"create" in r.change.actions
	msg := sprintf("%s: resource type %s is forbidden here; use %s", [r.address, r.type, replacement])
}
