# Deny IAM wildcards a change newly grants; warn on trust-policy changes and on policies that cannot
# be read before apply.
package driftctl

import rego.v1

iam_policy_types := {
	"aws_iam_group_policy",
	"aws_iam_policy",
	"aws_iam_role_policy",
	"aws_iam_user_policy",
}

policy_attachment_types := {
	"aws_iam_group_policy_attachment",
	"aws_iam_policy_attachment",
	"aws_iam_role_policy_attachment",
	"aws_iam_user_policy_attachment",
}

# The parsed policy document of one side of a change; undefined when absent or not valid JSON.
policy_document(state, key) := json.unmarshal(state[key]) if {
	is_string(state[key])
	json.is_valid(state[key])
}

statements(doc) := doc.Statement if is_array(doc.Statement)

statements(doc) := [doc.Statement] if is_object(doc.Statement)

# What an Allow statement grants that is a wildcard, as readable strings (compared before vs after).
wildcard_grants(state) := {grant |
	doc := policy_document(state, "policy")
	some statement in statements(doc)
	statement.Effect == "Allow"
	some grant in statement_wildcards(statement)
}

statement_wildcards(statement) := {grant |
	some action in as_list(object.get(statement, "Action", []))
	wildcard_action(action)
	grant := wildcard_label(action, as_list(object.get(statement, "Resource", [])))
} | {"NotAction with Allow (everything not listed)" | statement.NotAction}

wildcard_action(action) if action == "*"

wildcard_action(action) if endswith(action, ":*")

# concat, not sprintf: see `message` in lib.rego.
wildcard_label(action, resources) := "Action * on Resource *" if {
	action == "*"
	"*" in resources
} else := concat("", ["Action ", action])

deny contains msg if {
	some rc in input.resource_changes
	rc.type in iam_policy_types
	managed(rc)
	some grant in wildcard_grants(after(rc)) - wildcard_grants(before(rc))
	msg := message("iam-wildcard", rc, ["newly allows ", grant])
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type in policy_attachment_types
	managed(rc)
	arn := after(rc).policy_arn
	is_string(arn)
	endswith(arn, ":policy/AdministratorAccess")
	object.get(before(rc), "policy_arn", "") != arn
	msg := message("iam-admin-attach", rc, ["newly attaches ", arn])
}

warn contains msg if {
	some rc in input.resource_changes
	rc.type in iam_policy_types
	managed(rc)
	not deletes(rc)
	unknown_after(rc, "policy")
	msg := message("iam-policy-unknown", rc, ["the policy document is known only after apply; review it"])
}

warn contains msg if {
	some rc in input.resource_changes
	rc.type in iam_policy_types
	managed(rc)
	is_string(after(rc).policy)
	not json.is_valid(after(rc).policy)
	msg := message("iam-policy-unreadable", rc, ["the policy document is not valid JSON"])
}

warn contains msg if {
	some rc in input.resource_changes
	rc.type == "aws_iam_role"
	managed(rc)
	action(rc) == "update"
	trust_changed(rc)
	msg := message("iam-trust-change", rc, ["the role's trust policy (who may assume it) changes"])
}

trust_changed(rc) if unknown_after(rc, "assume_role_policy")

trust_changed(rc) if {
	not unknown_after(rc, "assume_role_policy")
	trust_value(before(rc)) != trust_value(after(rc))
}

# Parsed when it is JSON, so formatting alone is not a change.
trust_value(state) := policy_document(state, "assume_role_policy")

trust_value(state) := object.get(state, "assume_role_policy", null) if {
	not policy_document(state, "assume_role_policy")
}
