# A risk score in the style of OPA's Terraform tutorial, and `decision`: everything in one query.
package driftctl

import rego.v1

# Used when no data file provides `data.driftctl.weights`.
default weight_table := {"default": {"create": 1, "update": 1, "replace": 4, "delete": 4}}

weight_table := data.driftctl.weights

# Weight of one change: the type's own weight for the action, else the default type's, else 0.
weight(type, act) := object.get(weight_table, [type, act], object.get(weight_table, ["default", act], 0))

score := sum([weight(rc.type, action(rc)) |
	some rc in input.resource_changes
	managed(rc)
])

# `deny` and `warn` are sets; sorted lists keep the answer stable. An object, so never undefined.
decision := {
	"deny": sort([msg | some msg in deny]),
	"warn": sort([msg | some msg in warn]),
	"score": score,
}
