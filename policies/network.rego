# Deny a security group change that newly opens an admin port to the whole internet; warn when it
# newly opens any other port to the internet.
package driftctl

import rego.v1

world_cidrs := {"0.0.0.0/0", "::/0"}

# Ports that must never be open to the world: SSH, RDP, and any listed in `data.driftctl.admin_ports`.
admin_port_list := {22, 3389} | {port | some port in data.driftctl.admin_ports}

security_group_types := {
	"aws_default_security_group",
	"aws_security_group",
	"aws_security_group_rule",
	"aws_vpc_security_group_ingress_rule",
}

# Ingress rules of one side of a change, in one shape: {protocol, from, to, cidrs}. A missing field
# is null rather than dropping the rule: protocol -1 needs no ports.
ingress_rules(type, state) := rules if {
	type in {"aws_security_group", "aws_default_security_group"}
	rules := [rule |
		some r in list_at(state, "ingress")
		rule := {
			"protocol": object.get(r, "protocol", null),
			"from": object.get(r, "from_port", null),
			"to": object.get(r, "to_port", null),
			"cidrs": array.concat(cidr_list(r, "cidr_blocks"), cidr_list(r, "ipv6_cidr_blocks")),
		}
	]
}

ingress_rules("aws_security_group_rule", state) := [rule] if {
	state.type == "ingress"
	rule := {
		"protocol": object.get(state, "protocol", null),
		"from": object.get(state, "from_port", null),
		"to": object.get(state, "to_port", null),
		"cidrs": array.concat(cidr_list(state, "cidr_blocks"), cidr_list(state, "ipv6_cidr_blocks")),
	}
}

ingress_rules("aws_vpc_security_group_ingress_rule", state) := [rule] if {
	rule := {
		"protocol": object.get(state, "ip_protocol", null),
		"from": object.get(state, "from_port", null),
		"to": object.get(state, "to_port", null),
		"cidrs": [c | some k in ["cidr_ipv4", "cidr_ipv6"]; c := state[k]; is_string(c)],
	}
}

cidr_list(obj, key) := [c | some c in list_at(obj, key); is_string(c)]

all_protocols := {"-1", "all"}

# A rule lets `port` in: all protocols, or TCP with port inside from..to.
covers(rule, _) if protocol_name(rule.protocol) in all_protocols

covers(rule, port) if {
	protocol_name(rule.protocol) in {"tcp", "6"}
	is_number(rule.from)
	is_number(rule.to)
	rule.from <= port
	port <= rule.to
}

# "TCP", "tcp" and 6 name the same protocol.
protocol_name(p) := lower(text(p))

# [port, cidr] pairs: an admin port open to the world on this side of the change.
admin_exposures(type, state) := {[port, cidr] |
	some rule in ingress_rules(type, state)
	some cidr in rule.cidrs
	cidr in world_cidrs
	some port in admin_port_list
	covers(rule, port)
}

# [protocol, from, to, cidr]: any rule open to the world on this side of the change.
world_rules(type, state) := {[rule.protocol, rule.from, rule.to, cidr] |
	some rule in ingress_rules(type, state)
	some cidr in rule.cidrs
	cidr in world_cidrs
}

deny contains msg if {
	some rc in input.resource_changes
	rc.type in security_group_types
	managed(rc)
	some exposure in admin_exposures(rc.type, after(rc)) - admin_exposures(rc.type, before(rc))
	msg := message("sg-admin-port-open", rc, ["newly allows port ", exposure[0], " from ", exposure[1]])
}

warn contains msg if {
	some rc in input.resource_changes
	rc.type in security_group_types
	managed(rc)
	some r in world_rules(rc.type, after(rc)) - world_rules(rc.type, before(rc))
	not opens_admin_port(r)
	msg := message("sg-world-open", rc, ["newly allows ", r[0], " ports ", r[1], "-", r[2], " from ", r[3]])
}

opens_admin_port(r) if {
	some port in admin_port_list
	covers({"protocol": r[0], "from": r[1], "to": r[2]}, port)
}
