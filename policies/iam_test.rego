package driftctl_test

import rego.v1

doc(statements) := json.marshal({"Version": "2012-10-17", "Statement": statements})

allow(action, resource) := {"Effect": "Allow", "Action": action, "Resource": resource}

read_queue := doc([allow(["sqs:ReceiveMessage", "sqs:DeleteMessage"], "arn:aws:sqs:us-east-1:1:jobs")])

role_policy(policy) := {"name": "queue-access", "role": "app", "policy": policy}

test_a_new_star_star_grant_is_denied if {
	after := role_policy(doc([allow("*", "*")]))
	d := decision_for([rc_update("aws_iam_role_policy", role_policy(read_queue), after)])
	d.deny == ["[iam-wildcard] aws_iam_role_policy.this: newly allows Action * on Resource *"]
}

test_a_new_service_wildcard_is_denied if {
	after := role_policy(doc([allow(["s3:*", "sqs:ReceiveMessage"], "arn:aws:s3:::b/*")]))
	d := decision_for([rc_update("aws_iam_role_policy", role_policy(read_queue), after)])
	d.deny == ["[iam-wildcard] aws_iam_role_policy.this: newly allows Action s3:*"]
}

test_a_statement_object_and_string_action_are_read if {
	after := role_policy(json.marshal({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}))
	d := decision_for([rc_update("aws_iam_role_policy", role_policy(read_queue), after)])
	only(d.deny, "iam-wildcard")
}

test_not_action_with_allow_is_denied if {
	after := role_policy(doc([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]))
	d := decision_for([rc_update("aws_iam_role_policy", role_policy(read_queue), after)])
	d.deny == ["[iam-wildcard] aws_iam_role_policy.this: newly allows NotAction with Allow (everything not listed)"]
}

# A fix that leaves an existing wildcard as it was adds no risk.
test_an_existing_wildcard_left_alone_is_allowed if {
	wide := doc([allow("*", "*")])
	d := decision_for([rc_update("aws_iam_role_policy", role_policy(wide), object.union(role_policy(wide), {"name": "x"}))])
	d.deny == []
}

test_removing_a_wildcard_is_allowed if {
	d := decision_for([rc_update("aws_iam_role_policy", role_policy(doc([allow("*", "*")])), role_policy(read_queue))])
	d.deny == []
	d.warn == []
}

test_deny_statements_are_not_grants if {
	after := role_policy(doc([{"Effect": "Deny", "Action": "*", "Resource": "*"}]))
	d := decision_for([rc_update("aws_iam_role_policy", role_policy(read_queue), after)])
	d.deny == []
}

test_a_new_managed_policy_with_a_wildcard_is_denied if {
	d := decision_for([rc_create("aws_iam_policy", {"name": "p", "policy": doc([allow("ec2:*", "*")])})])
	d.deny == ["[iam-wildcard] aws_iam_policy.this: newly allows Action ec2:*"]
}

test_specific_actions_are_allowed if {
	d := decision_for([rc_create("aws_iam_policy", {"name": "p", "policy": read_queue})])
	d.deny == []
	d.warn == []
}

# The revert in all_drift_normal.json: the policy is computed, so the after is unknown at plan time.
test_a_policy_known_only_after_apply_warns if {
	rc := unknown_change(
		"aws_iam_role_policy", ["update"],
		role_policy(doc([allow("*", "*")])), {"name": "queue-access", "role": "app"},
		{"policy": true},
	)
	d := decision_for([rc])
	d.deny == []
	d.warn == ["[iam-policy-unknown] aws_iam_role_policy.this: the policy document is known only after apply; review it"]
}

test_an_unreadable_policy_warns if {
	d := decision_for([rc_update("aws_iam_role_policy", role_policy(read_queue), role_policy("{not json"))])
	d.deny == []
	d.warn == ["[iam-policy-unreadable] aws_iam_role_policy.this: the policy document is not valid JSON"]
}

test_attaching_administrator_access_is_denied if {
	arn := "arn:aws:iam::aws:policy/AdministratorAccess"
	d := decision_for([rc_create("aws_iam_role_policy_attachment", {"role": "app", "policy_arn": arn})])
	d.deny == ["[iam-admin-attach] aws_iam_role_policy_attachment.this: newly attaches arn:aws:iam::aws:policy/AdministratorAccess"]
}

trust(service) := doc([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}}])

test_a_trust_policy_change_warns if {
	before := {"name": "app", "assume_role_policy": trust("ec2.amazonaws.com")}
	after := {"name": "app", "assume_role_policy": trust("lambda.amazonaws.com")}
	d := decision_for([rc_update("aws_iam_role", before, after)])
	d.deny == []
	d.warn == ["[iam-trust-change] aws_iam_role.this: the role's trust policy (who may assume it) changes"]
}

test_a_reformatted_trust_policy_does_not_warn if {
	compact := trust("ec2.amazonaws.com")
	spaced := json.marshal_with_options(json.unmarshal(compact), {"pretty": true})
	before := {"name": "app", "assume_role_policy": compact, "tags": {"a": "1"}}
	after := {"name": "app", "assume_role_policy": spaced, "tags": {"a": "2"}}
	compact != spaced
	d := decision_for([rc_update("aws_iam_role", before, after)])
	d.warn == []
}
