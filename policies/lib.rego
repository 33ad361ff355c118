# Shared helpers for the driftctl policies. The input is a Terraform plan JSON (`terraform show -json`
# of the fix's saved plan); every rule reads `input.resource_changes`.
package driftctl

import rego.v1

# Managed resources only: data sources show up as "read" and change nothing.
managed(rc) if object.get(rc, "mode", "managed") == "managed"

deletes(rc) if "delete" in rc.change.actions

creates(rc) if "create" in rc.change.actions

# One word per change, the way a reviewer says it. A table lookup: cheaper in regopy than a chain of
# `else` rules.
action(rc) := action_names[concat(",", rc.change.actions)]

action_names := {
	"create": "create",
	"update": "update",
	"delete": "delete",
	"delete,create": "replace",
	"create,delete": "replace",
	"no-op": "no-op",
	"read": "read",
}

# The resource's attributes before and after the change; {} when it does not exist on that side.
before(rc) := rc.change.before if {
	is_object(rc.change.before)
} else := {}

after(rc) := rc.change.after if {
	is_object(rc.change.after)
} else := {}

# True when any value under after.<key> is only known after apply.
unknown_after(rc, key) if {
	walk(rc.change.after_unknown[key], [_, v])
	v == true
}

# Resources whose deletion loses data. Extend with `data.driftctl.stateful_types` (a list).
builtin_stateful_types := {
	"aws_backup_vault",
	"aws_cloudwatch_log_group",
	"aws_db_instance",
	"aws_docdb_cluster",
	"aws_dynamodb_table",
	"aws_ebs_volume",
	"aws_ecr_repository",
	"aws_efs_file_system",
	"aws_elasticache_cluster",
	"aws_elasticache_replication_group",
	"aws_elasticsearch_domain",
	"aws_fsx_lustre_file_system",
	"aws_glacier_vault",
	"aws_kinesis_stream",
	"aws_kms_key",
	"aws_msk_cluster",
	"aws_neptune_cluster",
	"aws_opensearch_domain",
	"aws_rds_cluster",
	"aws_redshift_cluster",
	"aws_s3_bucket",
	"aws_secretsmanager_secret",
	"aws_sqs_queue",
}

stateful(type) if type in builtin_stateful_types

stateful(type) if type in data.driftctl.stateful_types

# "[rule-id] address: text", the shape of every deny and warn message. `parts` may hold numbers.
# concat, not sprintf: regopy 1.5's sprintf wraps strings that come from Rego values in quotes.
message(rule_id, rc, parts) := concat("", array.concat(
	["[", rule_id, "] ", rc.address, ": "],
	[text(part) | some part in parts],
))

text(x) := x if is_string(x)

text(x) := json.marshal(x) if not is_string(x)

# obj[key] when it is a list, else []: an absent or null block reads as empty. (Iterating null is an
# error in some Rego engines, and regopy 1.5 mis-binds obj[key] in comprehensions of a function.)
list_at(obj, key) := value if {
	value := object.get(obj, key, [])
	is_array(value)
} else := []

# A list for a value that may be a list or a single string (IAM's Action, Resource, ...).
as_list(x) := x if is_array(x)

as_list(x) := [x] if is_string(x)
