"""The provider's pure helpers: rule regrouping, tags, JSON documents, set-block equality."""

from __future__ import annotations

from typing import Any

import pytest
from tf import types
from tf.schema import Attribute, Block
from tf.types import Unknown

from driftctl.sandbox.provider.base import (
    ExactSetBlock,
    SandboxSettings,
    json_doc,
    planning,
    planning_config,
    same_json,
    tags_from_aws,
    unique_name,
    with_provider_defaults,
)
from driftctl.sandbox.provider.ec2 import SecurityGroup, _from_permissions, _to_permissions
from driftctl.sandbox.provider.iam import IamRole
from driftctl.sandbox.provider.queues import SqsQueue
from driftctl.sandbox.provider.s3 import S3Bucket

PRIOR = [
    {
        "protocol": "tcp",
        "from_port": 443,
        "to_port": 443,
        "cidr_blocks": ["10.0.0.0/8"],
        "ipv6_cidr_blocks": None,
        "description": "https",
    },
    {
        "protocol": "tcp",
        "from_port": 443,
        "to_port": 443,
        "cidr_blocks": ["192.168.0.0/16"],
        "ipv6_cidr_blocks": None,
        "description": None,
    },
]


def _merged_like_ec2() -> list[dict[str, object]]:
    # EC2 merges both blocks (same protocol and ports) into one permission.
    return [
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "https"}, {"CidrIp": "192.168.0.0/16"}],
            "Ipv6Ranges": [],
        }
    ]


def _key(blocks: list[dict[str, object]]) -> list[str]:
    return sorted(repr(sorted(b.items())) for b in blocks)


def test_unchanged_rules_read_back_exactly_as_written() -> None:
    assert _key(_from_permissions(_merged_like_ec2(), PRIOR)) == _key(PRIOR)


def test_a_new_cidr_forms_its_own_block_and_leaves_the_others_alone() -> None:
    perms = _merged_like_ec2()
    perms.append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    blocks = _from_permissions(perms, PRIOR)
    assert len(blocks) == 3
    new = [b for b in blocks if b["from_port"] == 22]
    assert new == [
        {
            "protocol": "tcp",
            "from_port": 22,
            "to_port": 22,
            "cidr_blocks": ["0.0.0.0/0"],
            "ipv6_cidr_blocks": None,
            "description": None,
        }
    ]


def test_a_removed_rule_disappears() -> None:
    perms = [
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "https"}],
        }
    ]
    assert _key(_from_permissions(perms, PRIOR)) == _key(PRIOR[:1])


def test_to_permissions_round_trips() -> None:
    assert _key(_from_permissions(_to_permissions(PRIOR), PRIOR)) == _key(PRIOR)


def test_tags_null_when_none_anywhere_but_dict_when_code_had_empty() -> None:
    assert tags_from_aws([], None) is None
    assert tags_from_aws([], {}) == {}
    assert tags_from_aws([{"Key": "a", "Value": "1"}], None) == {"a": "1"}
    assert tags_from_aws({"a": "1"}, {"a": "2"}) == {"a": "1"}


def test_json_doc_keeps_the_codes_spelling_when_equal() -> None:
    prior = '{"Version":"2012-10-17","Statement":[]}'
    assert json_doc(prior, {"Statement": [], "Version": "2012-10-17"}) == prior
    changed = json_doc(prior, {"Statement": [{"Action": "*"}], "Version": "2012-10-17"})
    assert same_json(changed, {"Statement": [{"Action": "*"}], "Version": "2012-10-17"})
    assert changed != prior


def test_exact_set_block_sees_changes_inside_nested_blocks() -> None:
    inner = ExactSetBlock("by_default", Block(attributes=[Attribute("alg", types.String(), required=True)]))
    outer = ExactSetBlock(
        "rule", Block(attributes=[Attribute("key", types.Bool(), optional=True)], block_types=[inner])
    )
    a = [{"key": None, "by_default": [{"alg": "AES256"}]}]
    b = [{"key": None, "by_default": [{"alg": "aws:kms"}]}]
    assert outer.semantically_equal(a, a)
    assert not outer.semantically_equal(a, b)
    # Sets: order does not matter.
    assert outer.semantically_equal(a + b, b + a)


def test_settings_refuse_anything_but_loopback() -> None:
    settings = SandboxSettings()
    settings.endpoint = ""
    assert settings.endpoint_problem() == "AWS_ENDPOINT_URL is not set"
    settings.endpoint = "https://ec2.us-east-1.amazonaws.com"
    assert "not a loopback address" in (settings.endpoint_problem() or "")
    for ok in ("http://127.0.0.1:5000", "http://localhost:1234"):
        settings.endpoint = ok
        assert settings.endpoint_problem() is None


# --- provider defaults and generated names (hashicorp/aws semantics) ----------------------------------


def test_an_omitted_defaulted_attribute_is_planned_to_its_default() -> None:
    schema = SqsQueue.get_schema()
    prior = {"name": "q", "message_retention_seconds": 1_209_600, "visibility_timeout_seconds": 60}
    config = {"name": "q", "message_retention_seconds": None, "visibility_timeout_seconds": 60}
    planned = with_provider_defaults(schema, config, dict(prior))
    assert planned["message_retention_seconds"] == 345_600  # omitted: back to the provider default
    assert planned["visibility_timeout_seconds"] == 60  # set by the code: the code's value
    assert planned["name"] == "q"  # no default, and ForceNew


def test_without_the_configuration_nothing_is_defaulted() -> None:
    prior = {"message_retention_seconds": 1_209_600}
    assert with_provider_defaults(SqsQueue.get_schema(), None, dict(prior)) == prior


def test_an_unknown_configured_value_is_not_replaced_by_the_default() -> None:
    config = {"message_retention_seconds": Unknown}  # e.g. from a resource not created yet
    planned = with_provider_defaults(SqsQueue.get_schema(), config, {"message_retention_seconds": Unknown})
    assert planned["message_retention_seconds"] is Unknown


def test_a_replacing_attribute_keeps_its_prior_value() -> None:
    # A security group's description cannot change in place; the default is only for create.
    planned = with_provider_defaults(SecurityGroup.get_schema(), {"description": None}, {"description": "x"})
    assert planned["description"] == "x"


def test_planning_config_is_scoped_to_the_plan() -> None:
    assert planning_config() is None
    with planning({"name": "q"}):
        assert planning_config() == {"name": "q"}
    assert planning_config() is None


def test_generated_names_are_unique_and_valid_for_every_named_resource() -> None:
    names = {unique_name() for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert name.startswith("terraform-") and len(name) <= 63 and name == name.lower()


@pytest.mark.parametrize(
    ("resource", "field"),
    [(SqsQueue, "name"), (S3Bucket, "bucket"), (IamRole, "name"), (SecurityGroup, "name")],
)
def test_names_are_optional_computed_and_force_new_as_in_hashicorp_aws(resource: Any, field: str) -> None:
    (attribute,) = [a for a in resource.get_schema().attributes if a.name == field]
    assert (attribute.required, attribute.optional, attribute.computed) == (False, True, True)
    assert attribute.requires_replace and resource.generated_name == field
