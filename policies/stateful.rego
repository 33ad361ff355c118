# Deny deleting or replacing a resource that holds data.
package driftctl

import rego.v1

deny contains msg if {
	some rc in input.resource_changes
	deletes(rc)
	managed(rc)
	stateful(rc.type)
	msg := message("stateful-delete", rc, [action(rc), " of a stateful ", rc.type, " loses its data"])
}
