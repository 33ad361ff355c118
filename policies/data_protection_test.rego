package driftctl_test

import rego.v1

sse(algorithm) := {
	"bucket": "assets",
	"rule": [{
		"apply_server_side_encryption_by_default": [{"kms_master_key_id": null, "sse_algorithm": algorithm}],
		"bucket_key_enabled": null,
	}],
}

sse_type := "aws_s3_bucket_server_side_encryption_configuration"

test_deleting_default_encryption_is_denied if {
	d := decision_for([rc_delete(sse_type, sse("aws:kms"))])
	d.deny == ["[s3-encryption-off] aws_s3_bucket_server_side_encryption_configuration.this: delete removes default encryption"]
}

test_removing_the_sse_algorithm_is_denied if {
	d := decision_for([rc_update(sse_type, sse("AES256"), {"bucket": "assets", "rule": []})])
	only(d.deny, "s3-encryption-off")
}

# The revert in all_drift_normal.json: aws:kms back to AES256 is still encrypted.
test_changing_the_algorithm_is_allowed if {
	d := decision_for([rc_update(sse_type, sse("aws:kms"), sse("AES256"))])
	d.deny == []
	d.warn == []
}

test_an_algorithm_known_only_after_apply_is_not_denied if {
	rc := unknown_change(sse_type, ["update"], sse("AES256"), {"bucket": "assets"}, {"rule": true})
	d := decision_for([rc])
	d.deny == []
}

test_the_inline_bucket_block_counts if {
	before := {"bucket": "b", "server_side_encryption_configuration": [sse("AES256")]}
	after := {"bucket": "b", "server_side_encryption_configuration": []}
	d := decision_for([rc_update("aws_s3_bucket", before, after)])
	d.deny == ["[s3-encryption-off] aws_s3_bucket.this: update removes default encryption"]
}

versioning(status) := {"bucket": "logs", "versioning_configuration": [{"status": status}]}

test_suspending_versioning_is_denied if {
	d := decision_for([rc_update("aws_s3_bucket_versioning", versioning("Enabled"), versioning("Suspended"))])
	d.deny == ["[s3-versioning-off] aws_s3_bucket_versioning.this: update turns bucket versioning off"]
}

test_deleting_enabled_versioning_is_denied if {
	d := decision_for([rc_delete("aws_s3_bucket_versioning", versioning("Enabled"))])
	only(d.deny, "s3-versioning-off")
}

# The revert in all_drift_normal.json.
test_enabling_versioning_is_allowed if {
	d := decision_for([rc_update("aws_s3_bucket_versioning", versioning("Suspended"), versioning("Enabled"))])
	d.deny == []
	d.warn == []
}

test_legacy_bucket_versioning_off_is_denied if {
	before := {"bucket": "b", "versioning": [{"enabled": true, "mfa_delete": false}]}
	after := {"bucket": "b", "versioning": [{"enabled": false, "mfa_delete": false}]}
	d := decision_for([rc_update("aws_s3_bucket", before, after)])
	d.deny == ["[s3-versioning-off] aws_s3_bucket.this: update turns bucket versioning off"]
}

pab(on) := {
	"bucket": "assets",
	"block_public_acls": on,
	"block_public_policy": on,
	"ignore_public_acls": on,
	"restrict_public_buckets": on,
}

pab_type := "aws_s3_bucket_public_access_block"

test_turning_one_public_access_setting_off_is_denied if {
	d := decision_for([rc_update(pab_type, pab(true), object.union(pab(true), {"block_public_policy": false}))])
	d.deny == ["[s3-public-access-block-off] aws_s3_bucket_public_access_block.this: update turns block_public_policy off"]
}

test_deleting_the_public_access_block_is_denied if {
	d := decision_for([rc_delete(pab_type, pab(true))])
	only(d.deny, "s3-public-access-block-off")
	count(d.deny) == 4
}

# The revert in all_drift_normal.json.
test_turning_public_access_block_on_is_allowed if {
	d := decision_for([rc_update(pab_type, pab(false), pab(true))])
	d.deny == []
	d.warn == []
}

test_turning_database_encryption_off_is_denied if {
	before := {"identifier": "db", "storage_encrypted": true}
	after := {"identifier": "db", "storage_encrypted": false}
	d := decision_for([rc_update("aws_db_instance", before, after)])
	d.deny == ["[encryption-off] aws_db_instance.this: storage_encrypted goes from true to false"]
}
