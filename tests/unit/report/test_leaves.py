"""The console and Markdown show only the leaves that differ, with full paths; JSON documents as a diff.

Golden files: tests/unit/report/golden/nested.* (regenerate with DRIFTCTL_UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from driftctl.models import (
    SENSITIVE,
    AttributeChange,
    ChangeKind,
    DetectReport,
    Finding,
    FindingKind,
    ResourceAddress,
    Severity,
    WorkspaceReport,
)
from driftctl.report import render
from driftctl.report.console import finding_lines
from driftctl.report.leaves import Leaf, finding_leaves, json_document

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DRIFTCTL_UPDATE_GOLDEN", "") not in ("", "0")


def _rule(algorithm: str, key: str | None) -> dict[str, object]:
    return {
        "apply_server_side_encryption_by_default": [
            {"kms_master_key_id": key or "", "sse_algorithm": algorithm}
        ],
        "bucket_key_enabled": False,
    }


SSE = Finding(
    ResourceAddress(
        "aws_s3_bucket_server_side_encryption_configuration.logs",
        "aws_s3_bucket_server_side_encryption_configuration",
        "logs",
    ),
    FindingKind.CHANGED,
    # What the detector makes of a changed element of the `rule` set: one removed, one added.
    (
        AttributeChange("rule", ChangeKind.REMOVED, before=_rule("AES256", None)),
        AttributeChange("rule", ChangeKind.ADDED, after=_rule("aws:kms", "arn:aws:kms:eu-west-1:1:key/k")),
    ),
    Severity.HIGH,
    "encryption-changed",
)
POLICY_BEFORE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}],
}
POLICY_AFTER = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::logs/*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
    ],
}
POLICY = Finding(
    ResourceAddress("aws_iam_policy.app", "aws_iam_policy", "app"),
    FindingKind.CHANGED,
    (
        AttributeChange(
            "policy", ChangeKind.MODIFIED, before=json.dumps(POLICY_BEFORE), after=json.dumps(POLICY_AFTER)
        ),
    ),
    Severity.HIGH,
    "iam-policy-changed",
)


def _report(*findings: Finding) -> DetectReport:
    return DetectReport(
        (WorkspaceReport("prod", "envs/prod", findings=findings),),
        generated_at="2024-05-01T12:00:00Z",
        driftctl_version="0.1.0",
    )


def test_a_changed_set_element_shows_the_one_leaf_that_moved() -> None:
    leaves = finding_leaves(SSE, 80)
    assert leaves == [
        Leaf(
            "rule[*].apply_server_side_encryption_by_default[0].kms_master_key_id",
            ChangeKind.MODIFIED,
            "",
            "arn:aws:kms:eu-west-1:1:key/k",
        ),
        Leaf(
            "rule[*].apply_server_side_encryption_by_default[0].sse_algorithm",
            ChangeKind.MODIFIED,
            "AES256",
            "aws:kms",
        ),
    ]
    assert (
        'rule[*].apply_server_side_encryption_by_default[0].sse_algorithm: "AES256" → "aws:kms"'
        in finding_lines(SSE)
    )


def test_a_policy_is_diffed_as_a_json_document() -> None:
    lines = finding_lines(POLICY)
    assert lines[0] == "policy (JSON document):"
    assert '  Statement[0].Action: "s3:GetObject" → "s3:*"' in lines
    assert '  + Statement[1] = {"Action":"iam:PassRole","Effect":"Allow","Resource":"*"}' in lines
    assert not any("\\" in line for line in lines)  # no escaped JSON string anywhere
    assert not any("Version" in line for line in lines)  # unchanged leaves are not shown


def test_a_long_added_value_is_spread_over_its_leaves_and_a_short_one_stays_whole() -> None:
    big = {"a": {"b": ["x" * 30, "y" * 30]}, "c": "z" * 40, "d": None}
    finding = Finding(
        ResourceAddress("aws_x.y", "aws_x", "y"),
        FindingKind.CHANGED,
        (
            AttributeChange("settings", ChangeKind.ADDED, after=big),
            AttributeChange("tags", ChangeKind.REMOVED, before={"a": "b"}),
        ),
    )
    assert finding_lines(finding) == [
        f'+ settings.a.b = ["{"x" * 30}","{"y" * 30}"]',
        f'+ settings.c = "{"z" * 40}"',
        '- tags = {"a":"b"}',
    ]


def test_set_elements_pair_with_their_closest_match_and_the_rest_stay_whole() -> None:
    web = {"cidr_blocks": ["10.0.0.0/8"], "from_port": 443, "to_port": 443}
    finding = Finding(
        ResourceAddress("aws_security_group.web", "aws_security_group", "web"),
        FindingKind.CHANGED,
        (
            AttributeChange("ingress", ChangeKind.REMOVED, before=web),
            AttributeChange("ingress", ChangeKind.REMOVED, before={"from_port": 80, "to_port": 80}),
            AttributeChange("ingress", ChangeKind.ADDED, after={"from_port": 22, "to_port": 22}),
            AttributeChange("ingress", ChangeKind.ADDED, after={**web, "cidr_blocks": ["0.0.0.0/0"]}),
        ),
    )
    assert finding_lines(finding) == [
        'ingress[*].cidr_blocks[0]: "10.0.0.0/8" → "0.0.0.0/0"',
        '- ingress[*] = {"from_port":80,"to_port":80}',
        '+ ingress[*] = {"from_port":22,"to_port":22}',
    ]


def test_one_removed_and_one_added_element_are_one_element_changed() -> None:
    finding = Finding(
        ResourceAddress("aws_security_group.web", "aws_security_group", "web"),
        FindingKind.CHANGED,
        (
            AttributeChange("ingress", ChangeKind.REMOVED, before={"from_port": 80, "to_port": 80}),
            AttributeChange("ingress", ChangeKind.ADDED, after={"from_port": 22, "to_port": 22}),
        ),
    )
    assert finding_lines(finding) == ["ingress[*].from_port: 80 → 22", "ingress[*].to_port: 80 → 22"]


def test_sensitive_changes_stay_masked_and_whole() -> None:
    finding = Finding(
        ResourceAddress("aws_db_instance.db", "aws_db_instance", "db"),
        FindingKind.CHANGED,
        (AttributeChange("password", ChangeKind.MODIFIED, SENSITIVE, SENSITIVE, sensitive=True),),
    )
    # Both sides read the same: the line says the value changed (issue 16: sensitive drift).
    assert finding_lines(finding) == ["password: (sensitive value) → (sensitive value) (the value changed)"]


def test_json_document_only_takes_objects_and_arrays() -> None:
    assert json_document('{"a": 1}') == {"a": 1}
    assert json_document(" [1] ") == [1]
    for value in ("1", '"s"', "{not json", SENSITIVE, 3, None):
        assert json_document(value) is None


@pytest.mark.parametrize(("fmt", "suffix"), [("console", "console.txt"), ("markdown", "md")])
def test_nested_report_matches_golden(fmt: str, suffix: str) -> None:
    actual = render(_report(SSE, POLICY), fmt)
    golden = GOLDEN / f"nested.{suffix}"
    if UPDATE:
        golden.write_text(actual, encoding="utf-8", newline="\n")
    assert actual == golden.read_text(encoding="utf-8")
