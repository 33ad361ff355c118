"""Severity: the shipped policy on changes as the detector writes them, rule semantics, broken policies."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from driftctl.detect.iam_policy import grants_wildcard, wildcard_grants
from driftctl.detect.severity import SHIPPED_POLICY, SeverityRules, classify, load_severity_rules
from driftctl.errors import ConfigError
from driftctl.models import (
    SENSITIVE,
    UNKNOWN,
    AttributeChange,
    ChangeKind,
    Finding,
    FindingKind,
    ResourceAddress,
    Severity,
)

ADDED, MODIFIED, REMOVED = ChangeKind.ADDED, ChangeKind.MODIFIED, ChangeKind.REMOVED
WORLD_SSH = {
    "cidr_blocks": ["0.0.0.0/0"],
    "description": "",
    "from_port": 22,
    "ipv6_cidr_blocks": [],
    "prefix_list_ids": [],
    "protocol": "tcp",
    "security_groups": [],
    "self": False,
    "to_port": 22,
}
OFFICE_SSH = {**WORLD_SSH, "cidr_blocks": ["10.20.0.0/16"]}
WIDE_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
NARROW_POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:SendMessage"],'
    '"Resource":"arn:aws:sqs:us-east-1:123456789012:jobs"}]}'
)


def iam_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def finding(
    resource_type: str, *changes: AttributeChange, kind: FindingKind = FindingKind.CHANGED, name: str = "this"
) -> Finding:
    return Finding(ResourceAddress(f"{resource_type}.{name}", resource_type, name), kind, changes)


def change(
    path: str, before: Any, after: Any, kind: ChangeKind = MODIFIED, sensitive: bool = False
) -> AttributeChange:
    return AttributeChange(path, kind, before, after, sensitive)


@pytest.fixture(scope="module")
def shipped() -> SeverityRules:
    return load_severity_rules()


# --- the shipped policy --------------------------------------------------------------------------------

CASES = [
    pytest.param(
        finding("aws_s3_bucket", change("tags.owner", "platform", "bob")),
        "low",
        "tags-changed",
        id="tag-edited",
    ),
    pytest.param(
        finding("aws_s3_bucket", change("tags_all.owner", None, "bob", ADDED)),
        "low",
        "tags-changed",
        id="tags_all-added",
    ),
    pytest.param(
        finding("aws_instance", change('tags["kubernetes.io/role"]', "a", "b")),
        "low",
        "tags-changed",
        id="tag-quoted",
    ),
    pytest.param(
        finding("aws_security_group", change("ingress", None, WORLD_SSH, ADDED)),
        "critical",
        "sg-open-to-world",
        id="sg-set-element-open-to-world",
    ),
    pytest.param(
        finding("aws_security_group", change("ingress", None, OFFICE_SSH, ADDED)),
        "high",
        "sg-rule-changed",
        id="sg-set-element-private",
    ),
    pytest.param(
        finding("aws_security_group", change("ingress", WORLD_SSH, None, REMOVED)),
        "high",
        "sg-rule-changed",
        id="sg-world-rule-removed",
    ),
    pytest.param(
        finding("aws_security_group", change("ingress[0].cidr_blocks[1]", None, "0.0.0.0/0", ADDED)),
        "critical",
        "sg-open-to-world",
        id="sg-cidr-added",
    ),
    pytest.param(
        finding("aws_security_group", change("ingress[0].ipv6_cidr_blocks[0]", None, "::/0", ADDED)),
        "critical",
        "sg-open-to-world",
        id="sg-ipv6-world",
    ),
    pytest.param(
        finding("aws_security_group", change("egress[0].cidr_blocks[0]", "10.0.0.0/8", "0.0.0.0/0")),
        "high",
        "sg-rule-changed",
        id="sg-egress-to-world",
    ),
    pytest.param(
        finding("aws_s3_bucket_public_access_block", change("block_public_acls", True, False)),
        "critical",
        "s3-public-access-block-off",
        id="public-access-block-off",
    ),
    pytest.param(
        finding("aws_s3_bucket_public_access_block", change("restrict_public_buckets", False, True)),
        "medium",
        "default",
        id="public-access-block-on",
    ),
    pytest.param(
        finding(
            "aws_s3_bucket_versioning", change("versioning_configuration[0].status", "Enabled", "Suspended")
        ),
        "high",
        "s3-versioning-changed",
        id="versioning-suspended",
    ),
    pytest.param(
        finding(
            "aws_s3_bucket_server_side_encryption_configuration",
            change("rule[0].apply_server_side_encryption_by_default[0].sse_algorithm", "AES256", "aws:kms"),
        ),
        "high",
        "s3-encryption-changed",
        id="sse-algorithm",
    ),
    pytest.param(
        finding("aws_sqs_queue", change("kms_master_key_id", None, "alias/aws/sqs", ADDED)),
        "high",
        "encryption-changed",
        id="queue-kms",
    ),
    pytest.param(
        finding("aws_iam_role_policy", change("policy", '{"Statement":[]}', NARROW_POLICY)),
        "high",
        "iam-policy-changed",
        id="inline-policy",
    ),
    pytest.param(
        finding("aws_iam_role_policy", change("policy", NARROW_POLICY, WIDE_POLICY)),
        "critical",
        "iam-wildcard-grant",
        id="inline-policy-star-on-star",
    ),
    pytest.param(
        finding(
            "aws_iam_policy",
            change(
                "policy", NARROW_POLICY, iam_policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})
            ),
        ),
        "critical",
        "iam-wildcard-grant",
        id="managed-policy-iam-star",
    ),
    pytest.param(
        finding(
            "aws_iam_user_policy",
            change(
                "policy",
                NARROW_POLICY,
                iam_policy(
                    {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
                    {"Effect": "Allow", "Action": ["s3:GetObject", "*:*"], "Resource": "arn:aws:s3:::b/*"},
                ),
            ),
        ),
        "critical",
        "iam-wildcard-grant",
        id="star-colon-star-in-a-second-statement",
    ),
    pytest.param(
        finding(
            "aws_iam_role",
            change(
                "inline_policy",
                None,
                {"name": "x", "policy": iam_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})},
                ADDED,
            ),
        ),
        "critical",
        "iam-wildcard-grant",
        id="role-inline-policy-block",
    ),
    pytest.param(
        finding(
            "aws_iam_role_policy",
            change("policy", NARROW_POLICY, iam_policy({"Effect": "Deny", "Action": "*", "Resource": "*"})),
        ),
        "high",
        "iam-policy-changed",
        id="deny-star-is-not-a-grant",
    ),
    pytest.param(
        finding(
            "aws_iam_role_policy",
            change(
                "policy",
                NARROW_POLICY,
                iam_policy({"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}),
            ),
        ),
        "high",
        "iam-policy-changed",
        id="specific-action-on-every-resource-stays-high",
    ),
    pytest.param(
        finding("aws_iam_role_policy", change("policy", NARROW_POLICY, SENSITIVE, sensitive=True)),
        "high",
        "iam-policy-changed",
        id="masked-policy-never-matches-a-wildcard",
    ),
    pytest.param(
        finding("aws_iam_role", change("assume_role_policy", "{}", WIDE_POLICY)),
        "high",
        "iam-policy-changed",
        id="trust-policy",
    ),
    pytest.param(
        finding("aws_s3_bucket_policy", change("policy", "{}", WIDE_POLICY)),
        "high",
        "resource-policy-changed",
        id="bucket-policy",
    ),
    pytest.param(
        finding("aws_iam_role", change("max_session_duration", 3600, 43200)),
        "medium",
        "iam-role-changed",
        id="iam-role-other",
    ),
    pytest.param(
        finding("aws_iam_role", change("tags.team", "a", "b")), "low", "tags-changed", id="iam-role-tags"
    ),
    pytest.param(
        finding("aws_instance", change("instance_type", "t3.micro", "t3.2xlarge")),
        "medium",
        "instance-type-or-ami-changed",
        id="instance-type",
    ),
    pytest.param(
        finding("aws_instance", change("ami", "ami-1", "ami-2")),
        "medium",
        "instance-type-or-ami-changed",
        id="ami",
    ),
    pytest.param(
        finding("aws_cloudwatch_log_group", change("retention_in_days", 90, 1)),
        "medium",
        "log-retention-changed",
        id="log-retention",
    ),
    pytest.param(
        finding("aws_sqs_queue", change("visibility_timeout_seconds", 30, 5)),
        "medium",
        "sqs-attributes-changed",
        id="sqs-visibility",
    ),
    pytest.param(
        finding("aws_instance", change("user_data", "a", "b")), "medium", "default", id="no-rule-knows-it"
    ),
    pytest.param(
        finding("aws_sqs_queue", kind=FindingKind.DELETED),
        "high",
        "resource-deleted",
        id="deleted-no-changes",
    ),
    pytest.param(
        finding("aws_s3_bucket", change("tags.owner", "a", None, REMOVED), kind=FindingKind.DELETED),
        "high",
        "resource-deleted",
        id="deleted-with-changes",
    ),
    pytest.param(
        finding(
            "aws_security_group",
            change("tags.owner", "a", "b"),
            change("ingress", None, WORLD_SSH, ADDED),
            change("tags_all.owner", "a", "b"),
        ),
        "critical",
        "sg-open-to-world",
        id="worst-change-wins",
    ),
    pytest.param(
        finding("aws_instance", change("tags.owner", "a", "b"), change("user_data", "a", "b")),
        "medium",
        "default",
        id="unknown-change-not-hidden-by-a-milder-rule",
    ),
    pytest.param(
        finding("aws_security_group", change("ingress", None, SENSITIVE, ADDED, sensitive=True)),
        "high",
        "sg-rule-changed",
        id="sensitive-after-never-matches-after_contains",
    ),
    pytest.param(
        finding(
            "aws_security_group", change("ingress", None, {**WORLD_SSH, "cidr_blocks": [SENSITIVE]}, ADDED)
        ),
        "high",
        "sg-rule-changed",
        id="masked-leaf-never-matches",
    ),
    pytest.param(
        finding(
            "aws_security_group",
            change("ingress", None, {**WORLD_SSH, "description": SENSITIVE}, ADDED, sensitive=True),
        ),
        "critical",
        "sg-open-to-world",
        id="visible-part-of-a-partly-masked-value-still-matches",
    ),
    pytest.param(
        finding(
            "aws_s3_bucket_public_access_block",
            change("block_public_policy", True, SENSITIVE, sensitive=True),
        ),
        "medium",
        "default",
        id="sensitive-after-never-equals-false",
    ),
    pytest.param(
        finding("aws_s3_bucket_public_access_block", change("block_public_policy", True, UNKNOWN)),
        "medium",
        "default",
        id="unknown-after-never-equals-false",
    ),
]


@pytest.mark.parametrize(("given", "severity", "rule_id"), CASES)
def test_shipped_policy(shipped: SeverityRules, given: Finding, severity: str, rule_id: str) -> None:
    graded = classify(given, shipped)
    assert (graded.severity, graded.severity_rule) == (Severity(severity), rule_id)
    # Only severity and its rule change.
    assert (graded.resource, graded.kind, graded.changes) == (given.resource, given.kind, given.changes)


def test_shipped_policy_is_found_next_to_the_package() -> None:
    assert SHIPPED_POLICY.is_file()
    assert SHIPPED_POLICY.parent.name == "policies"
    assert load_severity_rules().default is Severity.MEDIUM


# --- rule semantics, on small policies -----------------------------------------------------------------


def policy(tmp_path: Path, text: str) -> SeverityRules:
    path = tmp_path / "severity.yaml"
    path.write_text(textwrap.dedent(text))
    return load_severity_rules(path)


def test_the_first_of_equally_severe_rules_wins(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        """\
        version: 1
        rules:
          - {id: first, path: 'a*', severity: high}
          - {id: second, path: 'ab', severity: high}
        """,
    )
    assert classify(finding("x_y", change("ab", 1, 2)), rules).severity_rule == "first"


def test_a_rule_beats_the_default_of_the_same_severity(tmp_path: Path) -> None:
    rules = policy(tmp_path, "version: 1\ndefault: low\nrules:\n  - {id: meh, path: a, severity: low}\n")
    graded = classify(finding("x_y", change("b", 1, 2), change("a", 1, 2)), rules)
    assert (graded.severity, graded.severity_rule) == (Severity.LOW, "meh")


def test_after_equals_is_exact_and_typed(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        """\
        version: 1
        default: info
        rules:
          - {id: turned-off, path: enabled, after_equals: false, severity: high}
          - {id: cleared, path: note, after_equals: null, severity: low}
        """,
    )
    assert classify(finding("x_y", change("enabled", True, False)), rules).severity_rule == "turned-off"
    assert classify(finding("x_y", change("enabled", 1, 0)), rules).severity_rule == "default"
    assert classify(finding("x_y", change("enabled", True, "false")), rules).severity_rule == "default"
    assert classify(finding("x_y", change("note", "x", None, REMOVED)), rules).severity_rule == "cleared"
    assert classify(finding("x_y", change("note", "x", "y")), rules).severity_rule == "default"


def test_after_contains_searches_nested_values_and_json_leaves(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        """\
        version: 1
        default: info
        rules:
          - {id: star, after_contains: '"Action":"*"', severity: high}
          - {id: port, after_contains: ['3389'], severity: medium}
        """,
    )
    assert classify(finding("x_y", change("policy", "{}", WIDE_POLICY)), rules).severity_rule == "star"
    nested = {"rules": [{"ports": [22, 3389]}]}
    assert classify(finding("x_y", change("cfg", None, nested, ADDED)), rules).severity_rule == "port"
    assert classify(finding("x_y", change("cfg", nested, None, REMOVED)), rules).severity_rule == "default"


def test_masked_values_are_unknown_not_their_placeholder_text(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        f"""\
        version: 1
        default: info
        rules:
          - {{id: contains, after_contains: [value, after], severity: high}}
          - {{id: equals, after_equals: {SENSITIVE!r}, severity: high}}
        """,
    )
    for masked in (SENSITIVE, UNKNOWN, [SENSITIVE], {"k": UNKNOWN}):
        graded = classify(finding("x_y", change("secret", "old", masked, sensitive=True)), rules)
        assert graded.severity_rule == "default", masked
    # The same text, unmasked, does match: the rules themselves work.
    assert classify(finding("x_y", change("note", "", "a value")), rules).severity_rule == "contains"


def test_resource_and_kind_narrow_a_rule(tmp_path: Path) -> None:
    rules = policy(
        tmp_path,
        """\
        version: 1
        default: info
        rules:
          - {id: buckets-gone, resource: 'aws_s3_*', kind: deleted, severity: critical}
          - {id: queues-changed, resource: [aws_sqs_queue], kind: changed, severity: low}
        """,
    )
    gone = FindingKind.DELETED
    assert classify(finding("aws_s3_bucket", kind=gone), rules).severity_rule == "buckets-gone"
    assert classify(finding("aws_sqs_queue", kind=gone), rules).severity_rule == "default"
    assert classify(finding("aws_sqs_queue", change("a", 1, 2)), rules).severity_rule == "queues-changed"
    assert classify(finding("aws_s3_bucket", change("a", 1, 2)), rules).severity_rule == "default"


def test_a_rule_about_paths_does_not_match_a_finding_without_changes(tmp_path: Path) -> None:
    rules = policy(
        tmp_path, "version: 1\ndefault: info\nrules:\n  - {id: tags, path: 'tags*', severity: low}\n"
    )
    assert classify(finding("x_y", kind=FindingKind.DELETED), rules).severity_rule == "default"


# --- broken policies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "version: 1\nrules:\n  - id: a\n    severity: severe\n",
            ":4: rules[0].severity: 'severe' is not one of critical, high, medium, low or info",
            id="unknown-severity",
        ),
        pytest.param(
            "version: 1\ndefault: meh\nrules: []\n",
            ":2: default: 'meh' is not one of critical, high, medium, low or info",
            id="unknown-default",
        ),
        pytest.param(
            "version: 1\nrules:\n  - id: a\n    severity: low\n  - severity: high\n    path: x\n",
            ":5: rules[1].id: required key is missing",
            id="missing-id",
        ),
        pytest.param(
            "version: 1\nrules:\n  - {id: a, severity: low}\n  - {id: a, severity: high}\n",
            ":4: rules[1].id: duplicate rule id 'a' (also rules[0])",
            id="duplicate-id",
        ),
        pytest.param(
            "version: 1\nrules:\n  - {id: a, severity: low, kind: vanished}\n",
            ":3: rules[0].kind: 'vanished' is not one of changed or deleted",
            id="unknown-kind",
        ),
        pytest.param(
            "version: 1\nrules:\n  - {id: a, severity: low, after: x}\n",
            ":3: rules[0].after: unknown key; allowed: id, resource, path, kind, after_contains",
            id="unknown-key",
        ),
        pytest.param(
            "version: 1\nrules:\n  - {id: a, severity: low, path: []}\n",
            ":3: rules[0].path: should not be empty",
            id="empty-path-list",
        ),
        pytest.param(
            "version: 1\nrules:\n  - id: a\n    severity: [low\n",
            ":5: invalid YAML",
            id="bad-yaml",
        ),
        pytest.param("", ": severity policy is empty", id="empty"),
    ],
)
def test_a_broken_policy_names_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "severity.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_severity_rules(path)
    assert info.value.message.startswith(f"{path}{expected}")


def test_a_missing_policy_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read severity policy"):
        load_severity_rules(tmp_path / "nope.yaml")


def test_a_validated_policy_is_cached_and_an_edit_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    policy = tmp_path / "severity.yaml"
    policy.write_text(
        "version: 1\ndefault: low\nrules:\n"
        "  - id: t\n    path: 'tags.*'\n    after_equals: null\n    severity: high\n"
    )
    first = load_severity_rules(policy)
    cached = list((tmp_path / "cache" / "driftctl").glob("severity-*.json"))
    assert len(cached) == 1
    again = load_severity_rules(policy)
    assert again.rules == first.rules and again.default == first.default
    assert again.rules[0].after_equals is None  # `after_equals: null` survives the cache as a real test
    policy.write_text(policy.read_text().replace("severity: high", "severity: bogus"))
    with pytest.raises(ConfigError, match="bogus"):
        load_severity_rules(policy)  # a changed file is validated again, never served stale


# --- wildcard grants in IAM policy documents ----------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "wildcard"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "*:*", "Resource": "arn:aws:s3:::b"}, True),
        (
            {"Effect": "Allow", "Action": ["sqs:SendMessage", "iam:*"], "Resource": "arn:aws:iam::1:role/x"},
            True,
        ),
        ({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "s3:Get*", "NotResource": "arn:aws:s3:::private/*"}, True),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}, False),
        ({"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}, False),
        ({"Effect": "Deny", "Action": "*", "Resource": "*"}, False),
    ],
)
def test_wildcard_grants(statement: dict[str, Any], wildcard: bool) -> None:
    assert bool(wildcard_grants(iam_policy(statement))) is wildcard
    assert bool(wildcard_grants({"Statement": statement})) is wildcard  # a single, unlisted statement


@pytest.mark.parametrize("document", ["not json", "[]", '{"Version": "2012-10-17"}', "null", 42, None])
def test_not_a_policy_has_no_wildcard_grants(document: Any) -> None:
    assert wildcard_grants(document) == ()
    assert grants_wildcard(document) is False


def test_wildcard_grant_names_what_it_found() -> None:
    assert wildcard_grants(WIDE_POLICY) == ("Action * on every resource",)


def test_after_grants_wildcard_is_a_rule_test_and_survives_the_cache(tmp_path: Path) -> None:
    text = """\
        version: 1
        default: info
        rules:
          - {id: wild, path: policy, after_grants_wildcard: true, severity: critical}
        """
    for _ in range(2):  # the second load comes from the cache
        rules = policy(tmp_path, text)
        assert rules.rules[0].after_grants_wildcard is True
        assert classify(finding("x_y", change("policy", "{}", WIDE_POLICY)), rules).severity_rule == "wild"
        assert (
            classify(finding("x_y", change("policy", "{}", NARROW_POLICY)), rules).severity_rule == "default"
        )
