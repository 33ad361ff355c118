package driftctl_test

import rego.v1

test_deleting_a_queue_is_denied if {
	d := decision_for([rc_delete("aws_sqs_queue", {"name": "jobs"})])
	d.deny == ["[stateful-delete] aws_sqs_queue.this: delete of a stateful aws_sqs_queue loses its data"]
}

test_replacing_a_database_is_denied if {
	d := decision_for([rc_replace("aws_db_instance", {"identifier": "a"}, {"identifier": "b"})])
	only(d.deny, "stateful-delete")
	contains(d.deny[0], "replace of a stateful aws_db_instance")
}

test_create_before_destroy_replace_is_denied if {
	d := decision_for([change("aws_s3_bucket", ["create", "delete"], {"bucket": "a"}, {"bucket": "b"})])
	only(d.deny, "stateful-delete")
}

test_updating_a_queue_is_allowed if {
	d := decision_for([rc_update("aws_sqs_queue", {"visibility_timeout_seconds": 5}, {"visibility_timeout_seconds": 60})])
	d.deny == []
}

test_creating_a_bucket_is_allowed if {
	d := decision_for([rc_create("aws_s3_bucket", {"bucket": "new"})])
	d.deny == []
	d.warn == []
}

test_stateful_types_extend_from_data if {
	changes := [rc_delete("aws_ssm_parameter", {"name": "p"})]
	d := data.driftctl.decision with input.resource_changes as changes
		with data.driftctl.stateful_types as ["aws_ssm_parameter"]
	only(d.deny, "stateful-delete")
}

test_data_sources_are_ignored if {
	rc := object.union(rc_delete("aws_sqs_queue", {"name": "jobs"}), {"mode": "data"})
	d := decision_for([rc])
	d.deny == []
}
