"""Sandbox EC2 resources: security groups with ingress/egress rules, instances (I/O: moto)."""

from __future__ import annotations

from typing import Any

from tf import types
from tf.iface import State
from tf.schema import Attribute, Block, Schema

from driftctl.sandbox.provider.base import (
    ExactSetBlock,
    SandboxResource,
    id_attrs,
    is_not_found,
    name_attr,
    tag_attrs,
    tag_list,
    tags_from_aws,
)


def _rule_block(name: str) -> ExactSetBlock:
    return ExactSetBlock(
        name,
        Block(
            attributes=[
                Attribute("from_port", types.Number(), required=True),
                Attribute("to_port", types.Number(), required=True),
                Attribute("protocol", types.String(), required=True),
                Attribute("cidr_blocks", types.List(types.String()), optional=True),
                Attribute("ipv6_cidr_blocks", types.List(types.String()), optional=True),
                Attribute("description", types.String(), optional=True),
            ]
        ),
    )


def _to_permissions(rules: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Terraform rule blocks → EC2 IpPermissions (one permission per rule block)."""
    perms = []
    for rule in rules or []:
        desc = {"Description": rule["description"]} if rule.get("description") else {}
        perms.append(
            {
                "IpProtocol": rule["protocol"],
                "FromPort": int(rule["from_port"]),
                "ToPort": int(rule["to_port"]),
                "IpRanges": [{"CidrIp": c, **desc} for c in rule.get("cidr_blocks") or []],
                "Ipv6Ranges": [{"CidrIpv6": c, **desc} for c in rule.get("ipv6_cidr_blocks") or []],
            }
        )
    return perms


def _from_permissions(
    perms: list[dict[str, Any]], prior: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """EC2 IpPermissions → Terraform rule blocks, grouped as the code wrote them where possible.

    EC2 merges rules with the same protocol and ports; Terraform keeps one block per rule as written.
    Regroup the live CIDRs by the prior blocks first so an unchanged security group reads back
    exactly as it was applied, and only genuinely new CIDRs form new blocks.
    """
    live: dict[tuple[str, int, int], dict[str, list[tuple[str, str | None]]]] = {}
    for perm in perms:
        key = (perm["IpProtocol"], int(perm.get("FromPort", 0)), int(perm.get("ToPort", 0)))
        slot = live.setdefault(key, {"v4": [], "v6": []})
        slot["v4"] += [(r["CidrIp"], r.get("Description")) for r in perm.get("IpRanges", [])]
        slot["v6"] += [(r["CidrIpv6"], r.get("Description")) for r in perm.get("Ipv6Ranges", [])]

    blocks: list[dict[str, Any]] = []
    for rule in prior or []:
        key = (rule["protocol"], int(rule["from_port"]), int(rule["to_port"]))
        found = live.get(key)
        if found is None:
            continue
        slot = found
        want4, want6 = rule.get("cidr_blocks") or [], rule.get("ipv6_cidr_blocks") or []
        have4 = [c for c, d in slot["v4"] if c in want4 and d == rule.get("description")]
        have6 = [c for c, d in slot["v6"] if c in want6 and d == rule.get("description")]
        if not have4 and not have6:
            continue
        slot["v4"] = [(c, d) for c, d in slot["v4"] if not (c in have4 and d == rule.get("description"))]
        slot["v6"] = [(c, d) for c, d in slot["v6"] if not (c in have6 and d == rule.get("description"))]
        blocks.append(_block(key, have4, have6, rule.get("description"), rule))

    for key, slot in sorted(live.items()):
        by_desc: dict[str | None, tuple[list[str], list[str]]] = {}
        for cidr, desc in slot["v4"]:
            by_desc.setdefault(desc, ([], []))[0].append(cidr)
        for cidr, desc in slot["v6"]:
            by_desc.setdefault(desc, ([], []))[1].append(cidr)
        for desc, (v4, v6) in by_desc.items():
            blocks.append(_block(key, v4, v6, desc, None))
    return blocks


def _block(
    key: tuple[str, int, int], v4: list[str], v6: list[str], desc: str | None, prior: dict[str, Any] | None
) -> dict[str, Any]:
    def cidrs(values: list[str], field: str) -> list[str] | None:
        if values:
            return values
        return [] if prior is not None and prior.get(field) == [] else None

    protocol, from_port, to_port = key
    return {
        "protocol": protocol,
        "from_port": from_port,
        "to_port": to_port,
        "cidr_blocks": cidrs(v4, "cidr_blocks"),
        "ipv6_cidr_blocks": cidrs(v6, "ipv6_cidr_blocks"),
        "description": desc,
    }


class SecurityGroup(SandboxResource):
    name = "security_group"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                *id_attrs(),
                name_attr(),
                Attribute(
                    "description",
                    types.String(),
                    optional=True,
                    computed=True,
                    requires_replace=True,
                    default="Managed by Terraform",
                ),
                Attribute("vpc_id", types.String(), optional=True, computed=True, requires_replace=True),
                *tag_attrs(),
            ],
            block_types=[_rule_block("ingress"), _rule_block("egress")],
        )

    def _create(self, planned: State) -> State:
        ec2 = self.client("ec2")
        kwargs: dict[str, Any] = {"GroupName": planned["name"], "Description": planned["description"]}
        if isinstance(planned.get("vpc_id"), str):
            kwargs["VpcId"] = planned["vpc_id"]
        if planned.get("tags"):
            kwargs["TagSpecifications"] = [
                {"ResourceType": "security-group", "Tags": tag_list(planned["tags"])}
            ]
        group_id = ec2.create_security_group(**kwargs)["GroupId"]
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        # Like the real provider: the default allow-all egress goes; only the code's rules exist.
        if group.get("IpPermissionsEgress"):
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=group["IpPermissionsEgress"])
        if planned.get("ingress"):
            ec2.authorize_security_group_ingress(
                GroupId=group_id, IpPermissions=_to_permissions(planned["ingress"])
            )
        if planned.get("egress"):
            ec2.authorize_security_group_egress(
                GroupId=group_id, IpPermissions=_to_permissions(planned["egress"])
            )
        return {
            **planned,
            "id": group_id,
            "arn": f"arn:aws:ec2:{self.settings.region}:{group['OwnerId']}:security-group/{group_id}",
            "vpc_id": group.get("VpcId"),
        }

    def _read(self, current: State) -> State | None:
        ec2 = self.client("ec2")
        try:
            groups = ec2.describe_security_groups(GroupIds=[current["id"]])["SecurityGroups"]
        except Exception as exc:
            if is_not_found(exc, "InvalidGroup.NotFound"):
                return None
            raise
        if not groups:
            return None
        group = groups[0]
        return {
            **current,
            "name": group["GroupName"],
            "description": group.get("Description"),
            "vpc_id": group.get("VpcId"),
            "arn": current.get("arn")
            or f"arn:aws:ec2:{self.settings.region}:{group['OwnerId']}:security-group/{group['GroupId']}",
            "ingress": _from_permissions(group.get("IpPermissions", []), current.get("ingress")),
            "egress": _from_permissions(group.get("IpPermissionsEgress", []), current.get("egress")),
            "tags": tags_from_aws(group.get("Tags"), current.get("tags")),
        }

    def _update(self, current: State, planned: State) -> State:
        ec2 = self.client("ec2")
        group_id = current["id"]
        group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        # Replace the rule sets wholesale: simple and exactly what the plan said.
        if group.get("IpPermissions"):
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=group["IpPermissions"])
        if group.get("IpPermissionsEgress"):
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=group["IpPermissionsEgress"])
        if planned.get("ingress"):
            ec2.authorize_security_group_ingress(
                GroupId=group_id, IpPermissions=_to_permissions(planned["ingress"])
            )
        if planned.get("egress"):
            ec2.authorize_security_group_egress(
                GroupId=group_id, IpPermissions=_to_permissions(planned["egress"])
            )
        _sync_tags(ec2, group_id, current.get("tags"), planned.get("tags"))
        return {**planned, "id": group_id, "arn": current["arn"], "vpc_id": current["vpc_id"]}

    def _delete(self, current: State) -> None:
        ec2 = self.client("ec2")
        try:
            ec2.delete_security_group(GroupId=current["id"])
        except Exception as exc:
            if not is_not_found(exc, "InvalidGroup.NotFound"):
                raise


def _sync_tags(ec2: Any, resource_id: str, old: dict[str, str] | None, new: dict[str, str] | None) -> None:
    stale = [{"Key": k} for k in (old or {}) if k not in (new or {})]
    if stale:
        ec2.delete_tags(Resources=[resource_id], Tags=stale)
    if new:
        ec2.create_tags(Resources=[resource_id], Tags=tag_list(new))


class Instance(SandboxResource):
    name = "instance"
    generated_name = None

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                *id_attrs(),
                # Optional+Computed as in hashicorp/aws (a launch_template may supply them; not modelled).
                Attribute("ami", types.String(), optional=True, computed=True, requires_replace=True),
                Attribute("instance_type", types.String(), optional=True, computed=True),
                Attribute("subnet_id", types.String(), optional=True, computed=True, requires_replace=True),
                Attribute("vpc_security_group_ids", types.Set(types.String()), optional=True, computed=True),
                Attribute("private_ip", types.String(), optional=True, computed=True, requires_replace=True),
                *tag_attrs(),
            ]
        )

    def _describe(self, instance_id: str) -> dict[str, Any] | None:
        ec2 = self.client("ec2")
        try:
            reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        except Exception as exc:
            if is_not_found(exc, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
                return None
            raise
        for reservation in reservations:
            for inst in reservation["Instances"]:
                if inst["State"]["Name"] not in ("terminated", "shutting-down"):
                    return dict(inst)
        return None

    def _state(self, inst: dict[str, Any], base: State) -> State:
        return {
            **base,
            "id": inst["InstanceId"],
            "arn": f"arn:aws:ec2:{self.settings.region}:123456789012:instance/{inst['InstanceId']}",
            "ami": inst["ImageId"],
            "instance_type": inst["InstanceType"],
            "subnet_id": inst.get("SubnetId"),
            "vpc_security_group_ids": sorted(g["GroupId"] for g in inst.get("SecurityGroups", [])),
            "private_ip": inst.get("PrivateIpAddress"),
            "tags": tags_from_aws(inst.get("Tags"), base.get("tags")),
        }

    def _create(self, planned: State) -> State:
        missing = [f for f in ("ami", "instance_type") if not isinstance(planned.get(f), str)]
        if missing:  # the real provider would take them from a launch_template, which is not modelled
            raise ValueError(f"set {' and '.join(missing)}: the sandbox does not model launch_template")
        ec2 = self.client("ec2")
        kwargs: dict[str, Any] = {
            "ImageId": planned["ami"],
            "InstanceType": planned["instance_type"],
            "MinCount": 1,
            "MaxCount": 1,
        }
        if isinstance(planned.get("subnet_id"), str):
            kwargs["SubnetId"] = planned["subnet_id"]
        if isinstance(planned.get("private_ip"), str):
            kwargs["PrivateIpAddress"] = planned["private_ip"]
        if isinstance(planned.get("vpc_security_group_ids"), list):
            kwargs["SecurityGroupIds"] = planned["vpc_security_group_ids"]
        if planned.get("tags"):
            kwargs["TagSpecifications"] = [{"ResourceType": "instance", "Tags": tag_list(planned["tags"])}]
        inst = ec2.run_instances(**kwargs)["Instances"][0]
        state = self._state(inst, planned)
        state["tags"] = planned.get("tags")
        return state

    def _read(self, current: State) -> State | None:
        inst = self._describe(current["id"])
        return None if inst is None else self._state(inst, current)

    def _update(self, current: State, planned: State) -> State:
        ec2 = self.client("ec2")
        instance_id = current["id"]
        if planned["instance_type"] != current["instance_type"]:
            ec2.modify_instance_attribute(
                InstanceId=instance_id, InstanceType={"Value": planned["instance_type"]}
            )
        groups = planned.get("vpc_security_group_ids")
        if isinstance(groups, list) and sorted(groups) != sorted(current.get("vpc_security_group_ids") or []):
            ec2.modify_instance_attribute(InstanceId=instance_id, Groups=groups)
        _sync_tags(ec2, instance_id, current.get("tags"), planned.get("tags"))
        return {**current, **planned, "id": instance_id}

    def _delete(self, current: State) -> None:
        if self._describe(current["id"]) is not None:
            self.client("ec2").terminate_instances(InstanceIds=[current["id"]])
