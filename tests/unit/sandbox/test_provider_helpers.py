"""The provider's pure helpers: rule regrouping, tags, JSON documents, set-block equality."""

from __future__ import annotations

from tf import types
from tf.schema import Attribute, Block

from driftctl.sandbox.provider.base import ExactSetBlock, SandboxSettings, json_doc, same_json, tags_from_aws
from driftctl.sandbox.provider.ec2 import _from_permissions, _to_permissions

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
