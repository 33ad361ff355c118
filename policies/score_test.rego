package driftctl_test

import rego.v1

custom_weights := {
	"default": {"create": 1, "update": 2, "replace": 5, "delete": 7},
	"aws_sqs_queue": {"update": 3, "delete": 20},
}

# `w := custom_weights` first: regopy 1.5 reads `with ... as <rule>` as undefined; a local works.
score_of(changes) := s if {
	w := custom_weights
	s := data.driftctl.score with input.resource_changes as changes with data.driftctl.weights as w
}

test_an_empty_plan_decides_nothing if {
	d := decision_for([])
	d == {"deny": [], "warn": [], "score": 0}
}

test_a_type_weight_is_used if {
	score_of([rc_update("aws_sqs_queue", {"a": 1}, {"a": 2})]) == 3
}

test_the_default_weight_fills_in if {
	score_of([rc_create("aws_sqs_queue", {"a": 1})]) == 1
	score_of([rc_replace("aws_instance", {"a": 1}, {"a": 2})]) == 5
}

test_changes_add_up if {
	changes := [
		rc_delete("aws_sqs_queue", {"a": 1}),
		rc_update("aws_instance", {"a": 1}, {"a": 2}),
		change("aws_instance", ["no-op"], {"a": 1}, {"a": 1}),
	]
	score_of(changes) == 22
}

test_data_sources_do_not_score if {
	rc := object.union(change("aws_iam_policy_document", ["read"], null, {"json": "{}"}), {"mode": "data"})
	score_of([rc]) == 0
}

test_shipped_weights_rank_deletes_above_updates if {
	del := data.driftctl.score with input.resource_changes as [rc_delete("aws_s3_bucket", {"bucket": "b"})]
	upd := data.driftctl.score with input.resource_changes as [rc_update("aws_s3_bucket", {"a": 1}, {"a": 2})]
	del > upd
}

test_the_decision_sorts_its_messages if {
	d := decision_for([rc_delete("aws_sqs_queue", {"name": "b"}), rc_delete("aws_db_instance", {"identifier": "a"})])
	d.deny == [
		"[stateful-delete] aws_db_instance.this: delete of a stateful aws_db_instance loses its data",
		"[stateful-delete] aws_sqs_queue.this: delete of a stateful aws_sqs_queue loses its data",
	]
}
