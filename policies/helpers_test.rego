# Builders shared by the policy tests: small resource changes shaped like `terraform show -json`.
# concat, not sprintf: regopy 1.5's sprintf quotes strings that come from Rego values.
package driftctl_test

import rego.v1

change(type, actions, before, after) := unknown_change(type, actions, before, after, {})

unknown_change(type, actions, before, after, after_unknown) := {
	"address": concat(".", [type, "this"]),
	"mode": "managed",
	"type": type,
	"name": "this",
	"provider_name": "registry.terraform.io/hashicorp/aws",
	"change": {"actions": actions, "before": before, "after": after, "after_unknown": after_unknown},
}

rc_create(type, after) := change(type, ["create"], null, after)

rc_update(type, before, after) := change(type, ["update"], before, after)

rc_delete(type, before) := change(type, ["delete"], before, null)

rc_replace(type, before, after) := change(type, ["delete", "create"], before, after)

# The whole answer for a list of resource changes. `with input.resource_changes`, not `with input`:
# regopy 1.5 fails to compile `with input as {...}` when the policies use comparisons.
decision_for(changes) := d if {
	d := data.driftctl.decision with input.resource_changes as changes
}

# A message of the given rule id is in the list.
has(messages, rule_id) if {
	some msg in messages
	startswith(msg, concat("", ["[", rule_id, "] "]))
}

# Every message in the list has the given rule id, and there is at least one.
only(messages, rule_id) if {
	count(messages) > 0
	every msg in messages {
		startswith(msg, concat("", ["[", rule_id, "] "]))
	}
}

ingress(protocol, from, to, cidrs) := {
	"cidr_blocks": cidrs,
	"description": null,
	"from_port": from,
	"ipv6_cidr_blocks": null,
	"protocol": protocol,
	"to_port": to,
}

sg(rules) := {"name": "web", "ingress": rules, "egress": [], "tags": {"team": "web"}}
