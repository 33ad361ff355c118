# Deny turning off S3 default encryption, versioning, a public-access-block setting, or an encryption
# flag of a data store.
package driftctl

import rego.v1

# --- default encryption ----------------------------------------------------------------------------

sse_algorithms("aws_s3_bucket_server_side_encryption_configuration", state) := rule_algorithms(state)

# The inline block of aws_s3_bucket (AWS provider < 4).
sse_algorithms("aws_s3_bucket", state) := {algorithm |
	some configuration in list_at(state, "server_side_encryption_configuration")
	some algorithm in rule_algorithms(configuration)
}

# The non-empty sse_algorithm values of a block holding `rule` blocks.
rule_algorithms(block) := {algorithm |
	some rule in list_at(block, "rule")
	some default_ in list_at(rule, "apply_server_side_encryption_by_default")
	algorithm := default_.sse_algorithm
	is_string(algorithm)
	algorithm != ""
}

# Resource type -> the attribute that holds its encryption settings.
sse_keys := {
	"aws_s3_bucket": "server_side_encryption_configuration",
	"aws_s3_bucket_server_side_encryption_configuration": "rule",
}

deny contains msg if {
	some rc in input.resource_changes
	key := sse_keys[rc.type]
	managed(rc)
	count(sse_algorithms(rc.type, before(rc))) > 0
	count(sse_algorithms(rc.type, after(rc))) == 0
	not unknown_after(rc, key)
	msg := message("s3-encryption-off", rc, [action(rc), " removes default encryption"])
}

# --- versioning ------------------------------------------------------------------------------------

versioning_on("aws_s3_bucket_versioning", state) if {
	some configuration in list_at(state, "versioning_configuration")
	configuration.status == "Enabled"
}

versioning_on("aws_s3_bucket", state) if {
	some configuration in list_at(state, "versioning")
	configuration.enabled == true
}

# Resource type -> the attribute that holds its versioning settings.
versioning_keys := {
	"aws_s3_bucket": "versioning",
	"aws_s3_bucket_versioning": "versioning_configuration",
}

deny contains msg if {
	some rc in input.resource_changes
	key := versioning_keys[rc.type]
	managed(rc)
	versioning_on(rc.type, before(rc))
	not versioning_on(rc.type, after(rc))
	not unknown_after(rc, key)
	msg := message("s3-versioning-off", rc, [action(rc), " turns bucket versioning off"])
}

# --- public access block ---------------------------------------------------------------------------

public_access_block_types := {"aws_s3_account_public_access_block", "aws_s3_bucket_public_access_block"}

public_access_block_settings := ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]

deny contains msg if {
	some rc in input.resource_changes
	rc.type in public_access_block_types
	managed(rc)
	some setting in public_access_block_settings
	before(rc)[setting] == true
	object.get(after(rc), setting, false) != true
	not unknown_after(rc, setting)
	msg := message("s3-public-access-block-off", rc, [action(rc), " turns ", setting, " off"])
}

# --- encryption flags of data stores ---------------------------------------------------------------

encryption_flags := {
	"aws_db_instance": "storage_encrypted",
	"aws_docdb_cluster": "storage_encrypted",
	"aws_ebs_volume": "encrypted",
	"aws_efs_file_system": "encrypted",
	"aws_neptune_cluster": "storage_encrypted",
	"aws_rds_cluster": "storage_encrypted",
	"aws_redshift_cluster": "encrypted",
}

deny contains msg if {
	some rc in input.resource_changes
	flag := encryption_flags[rc.type]
	managed(rc)
	before(rc)[flag] == true
	after(rc)[flag] == false
	msg := message("encryption-off", rc, [flag, " goes from true to false"])
}
