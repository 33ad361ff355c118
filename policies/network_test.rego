package driftctl_test

import rego.v1

world_ssh := ingress("tcp", 22, 22, ["0.0.0.0/0"])

internal_https := ingress("tcp", 443, 443, ["10.0.0.0/8"])

test_a_fix_that_opens_ssh_to_the_world_is_denied if {
	d := decision_for([rc_update("aws_security_group", sg([internal_https]), sg([internal_https, world_ssh]))])
	d.deny == ["[sg-admin-port-open] aws_security_group.this: newly allows port 22 from 0.0.0.0/0"]
}

# The revert in tests/fixtures/plans/all_drift_normal.json: the after no longer allows 0.0.0.0/0.
test_reverting_an_open_ssh_rule_is_allowed if {
	d := decision_for([rc_update("aws_security_group", sg([world_ssh, internal_https]), sg([internal_https]))])
	d.deny == []
	d.warn == []
}

# A problem the fix leaves as it was is not new risk.
test_an_existing_open_ssh_rule_left_alone_is_allowed if {
	before := sg([world_ssh])
	after := object.union(sg([world_ssh]), {"tags": {"team": "platform"}})
	d := decision_for([rc_update("aws_security_group", before, after)])
	d.deny == []
}

test_creating_a_group_open_to_the_world_is_denied if {
	d := decision_for([rc_create("aws_security_group", sg([world_ssh]))])
	only(d.deny, "sg-admin-port-open")
}

test_a_port_range_covering_rdp_is_denied if {
	d := decision_for([rc_update("aws_security_group", sg([]), sg([ingress("tcp", 3000, 4000, ["0.0.0.0/0"])]))])
	d.deny == ["[sg-admin-port-open] aws_security_group.this: newly allows port 3389 from 0.0.0.0/0"]
}

test_all_protocols_open_every_admin_port if {
	d := decision_for([rc_update("aws_security_group", sg([]), sg([ingress("-1", 0, 0, ["0.0.0.0/0"])]))])
	d.deny == [
		"[sg-admin-port-open] aws_security_group.this: newly allows port 22 from 0.0.0.0/0",
		"[sg-admin-port-open] aws_security_group.this: newly allows port 3389 from 0.0.0.0/0",
	]
}

test_ipv6_world_is_denied if {
	rule := object.union(ingress("tcp", 22, 22, []), {"ipv6_cidr_blocks": ["::/0"]})
	d := decision_for([rc_update("aws_security_group", sg([]), sg([rule]))])
	d.deny == ["[sg-admin-port-open] aws_security_group.this: newly allows port 22 from ::/0"]
}

# Already open to 0.0.0.0/0, now also to ::/0: that part is new.
test_widening_an_open_rule_to_ipv6_is_denied if {
	wider := object.union(world_ssh, {"ipv6_cidr_blocks": ["::/0"]})
	d := decision_for([rc_update("aws_security_group", sg([world_ssh]), sg([wider]))])
	d.deny == ["[sg-admin-port-open] aws_security_group.this: newly allows port 22 from ::/0"]
}

test_ssh_from_an_internal_network_is_allowed if {
	d := decision_for([rc_update("aws_security_group", sg([]), sg([ingress("tcp", 22, 22, ["10.0.0.0/8"])]))])
	d.deny == []
	d.warn == []
}

test_udp_on_port_22_only_warns if {
	d := decision_for([rc_update("aws_security_group", sg([]), sg([ingress("udp", 22, 22, ["0.0.0.0/0"])]))])
	d.deny == []
	d.warn == ["[sg-world-open] aws_security_group.this: newly allows udp ports 22-22 from 0.0.0.0/0"]
}

test_https_to_the_world_only_warns if {
	d := decision_for([rc_update("aws_security_group", sg([]), sg([ingress("tcp", 443, 443, ["0.0.0.0/0"])]))])
	d.deny == []
	d.warn == ["[sg-world-open] aws_security_group.this: newly allows tcp ports 443-443 from 0.0.0.0/0"]
}

test_security_group_rule_resource_is_denied if {
	after := {
		"type": "ingress", "protocol": "tcp", "from_port": 22, "to_port": 22,
		"cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": null, "security_group_id": "sg-1",
	}
	d := decision_for([rc_create("aws_security_group_rule", after)])
	d.deny == ["[sg-admin-port-open] aws_security_group_rule.this: newly allows port 22 from 0.0.0.0/0"]
}

test_egress_rule_is_not_an_exposure if {
	after := {
		"type": "egress", "protocol": "-1", "from_port": 0, "to_port": 0,
		"cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": null, "security_group_id": "sg-1",
	}
	d := decision_for([rc_create("aws_security_group_rule", after)])
	d.deny == []
	d.warn == []
}

test_vpc_ingress_rule_all_protocols_is_denied if {
	after := {"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0", "cidr_ipv6": null, "from_port": null, "to_port": null}
	d := decision_for([rc_create("aws_vpc_security_group_ingress_rule", after)])
	only(d.deny, "sg-admin-port-open")
	count(d.deny) == 2
}

test_admin_ports_from_data_add_to_ssh_and_rdp if {
	postgres := ingress("tcp", 5432, 5432, ["0.0.0.0/0"])
	changes := [rc_update("aws_security_group", sg([]), sg([postgres, world_ssh]))]
	d := data.driftctl.decision with input.resource_changes as changes with data.driftctl.admin_ports as [5432]
	d.deny == [
		"[sg-admin-port-open] aws_security_group.this: newly allows port 22 from 0.0.0.0/0",
		"[sg-admin-port-open] aws_security_group.this: newly allows port 5432 from 0.0.0.0/0",
	]
	d.warn == []
}

test_postgres_to_the_world_only_warns_by_default if {
	d := decision_for([rc_update("aws_security_group", sg([]), sg([ingress("tcp", 5432, 5432, ["0.0.0.0/0"])]))])
	d.deny == []
	d.warn == ["[sg-world-open] aws_security_group.this: newly allows tcp ports 5432-5432 from 0.0.0.0/0"]
}

test_deleting_a_security_group_is_not_an_exposure if {
	d := decision_for([rc_delete("aws_security_group", sg([world_ssh]))])
	d.deny == []
	d.warn == ["[delete] aws_security_group.this: delete of aws_security_group"]
}

test_an_all_protocols_rule_without_ports_is_denied if {
	rule := {"protocol": "-1", "cidr_blocks": ["0.0.0.0/0"]}
	d := decision_for([rc_update("aws_security_group", sg([]), sg([rule]))])
	count(d.deny) == 2
	only(d.deny, "sg-admin-port-open")
}
