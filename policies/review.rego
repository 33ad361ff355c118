# Warn about changes worth a human look that no deny rule covers. Tag-only changes never warn.
package driftctl

import rego.v1

warn contains msg if {
	some rc in input.resource_changes
	deletes(rc)
	managed(rc)
	not stateful(rc.type)
	msg := message("delete", rc, [action(rc), " of ", rc.type])
}

# The attribute that sizes a resource; changing it restarts or resizes the resource.
size_attributes := {
	"aws_db_instance": "instance_class",
	"aws_elasticache_cluster": "node_type",
	"aws_instance": "instance_type",
	"aws_launch_template": "instance_type",
	"aws_rds_cluster_instance": "instance_class",
}

warn contains msg if {
	some rc in input.resource_changes
	attribute := size_attributes[rc.type]
	managed(rc)
	action(rc) in {"update", "replace"}
	old := before(rc)[attribute]
	new := after(rc)[attribute]
	old != new
	msg := message("size-change", rc, [attribute, " ", old, " -> ", new])
}
