package driftctl_test

import rego.v1

test_deleting_a_stateless_resource_warns if {
	d := decision_for([rc_delete("aws_instance", {"instance_type": "t3.micro"})])
	d.deny == []
	d.warn == ["[delete] aws_instance.this: delete of aws_instance"]
}

test_replacing_a_stateless_resource_warns if {
	d := decision_for([rc_replace("aws_instance", {"ami": "ami-1"}, {"ami": "ami-2"})])
	d.warn == ["[delete] aws_instance.this: replace of aws_instance"]
}

test_deleting_a_stateful_resource_denies_and_does_not_also_warn if {
	d := decision_for([rc_delete("aws_dynamodb_table", {"name": "t"})])
	only(d.deny, "stateful-delete")
	d.warn == []
}

# The revert in all_drift_normal.json: m5.large back to t3.micro.
test_an_instance_type_change_warns if {
	d := decision_for([rc_update("aws_instance", {"instance_type": "m5.large"}, {"instance_type": "t3.micro"})])
	d.deny == []
	d.warn == ["[size-change] aws_instance.this: instance_type m5.large -> t3.micro"]
}

test_a_tag_only_change_neither_denies_nor_warns if {
	before := {"bucket": "logs", "tags": {"owner": "mallory", "project": "x"}, "tags_all": {"owner": "mallory", "project": "x"}}
	after := {"bucket": "logs", "tags": {"project": "x"}, "tags_all": {"project": "x"}}
	d := decision_for([rc_update("aws_s3_bucket", before, after)])
	d.deny == []
	d.warn == []
}

test_creating_a_resource_does_not_warn if {
	d := decision_for([rc_create("aws_instance", {"instance_type": "t3.micro"})])
	d.warn == []
}
