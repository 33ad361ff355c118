"""Plan JSON parsing: shape checks, version gate, masking, and clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftctl.errors import PlanFormatError
from driftctl.models import SENSITIVE, UNKNOWN
from driftctl.terraform.plan import mask, parse_plan, read_plan_file

PLANS = Path(__file__).parents[2] / "fixtures" / "plans"
CANARY = "CANARY-7f3a9c"


def test_reads_a_captured_refresh_only_plan() -> None:
    plan = read_plan_file(PLANS / "all_drift_refresh_only.json")
    assert plan.format_version.startswith("1.")
    assert plan.terraform_version
    addresses = {r.resource.address for r in plan.drift}
    assert 'module.app.aws_instance.web["blue"]' in addresses
    blue = next(r for r in plan.drift if r.resource.address == 'module.app.aws_instance.web["blue"]')
    assert (blue.resource.type, blue.resource.name, blue.resource.module, blue.resource.index) == (
        "aws_instance",
        "web",
        "module.app",
        "blue",
    )
    assert plan.changes == ()  # a refresh-only plan proposes nothing


def test_sensitive_values_are_masked_at_parse_time() -> None:
    plan = read_plan_file(PLANS / "all_drift_refresh_only.json")
    assert CANARY in (PLANS / "all_drift_refresh_only.json").read_text()  # the fixture really has it
    bucket = next(r for r in plan.drift if r.resource.address == 'module.storage["logs"].aws_s3_bucket.this')
    assert bucket.before["tags"]["secret"] == SENSITIVE
    assert bucket.after["tags_all"]["secret"] == SENSITIVE
    assert CANARY not in repr(plan)


def test_unknown_values_are_marked() -> None:
    plan = read_plan_file(PLANS / "all_drift_normal.json")
    policy = next(r for r in plan.changes if r.resource.address == "module.app.aws_iam_role_policy.app")
    assert policy.after["policy"] == UNKNOWN  # depends on the queue being re-created


def test_mask_rules() -> None:
    value = {"a": "x", "b": ["1", "2"], "c": {"d": "y"}, "e": None}
    assert mask(value, {"b": [False, True], "c": True}, None) == {
        "a": "x",
        "b": ["1", SENSITIVE],
        "c": SENSITIVE,
        "e": None,
    }
    assert mask(value, True, None) == SENSITIVE
    assert mask({"a": 1}, None, {"id": True}) == {"a": 1, "id": UNKNOWN}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"   \n", "empty file"),
        (b'{"format_version": "1.2", "resource_drift": [', "invalid JSON"),
        (b"[1, 2]", "not a Terraform plan"),
        (b'{"terraform_version": "1.5.0"}', "format_version"),
        (b'{"format_version": "2.0"}', "unsupported format_version '2.0'"),
        (b'{"format_version": "0.1"}', "unsupported format_version '0.1'"),
        (
            b'{"format_version": "1.2", "resource_drift": '
            b'[{"type": "aws_s3_bucket", "name": "b", "change": {"actions": ["update"]}}]}',
            "address",
        ),
        (b'{"format_version": "1.2", "resource_drift": {"not": "a list"}}', "resource_drift"),
        (b"\xff\xfe garbage", "invalid JSON"),
    ],
)
def test_bad_input_is_a_clear_error_naming_the_source(data: bytes, message: str) -> None:
    with pytest.raises(PlanFormatError) as info:
        parse_plan(data, source="ci/plan.json")
    assert info.value.message.startswith("ci/plan.json: ")
    assert message in info.value.message
    assert info.value.exit_code == 1


def test_unknown_fields_are_ignored() -> None:
    doc = {
        "format_version": "1.9",
        "some_future_key": {"x": 1},
        "resource_drift": [
            {
                "address": "aws_s3_bucket.b",
                "type": "aws_s3_bucket",
                "name": "b",
                "future": True,
                "change": {"actions": ["update"], "before": {"a": 1}, "after": {"a": 2}, "importing": {}},
            }
        ],
    }
    plan = parse_plan(json.dumps(doc))
    assert plan.drift[0].after == {"a": 2}


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PlanFormatError, match="no such file"):
        read_plan_file(tmp_path / "missing.json")
    with pytest.raises(PlanFormatError, match="is a directory"):
        read_plan_file(tmp_path)
    unreadable = tmp_path / "locked.json"
    unreadable.write_text("{}")
    unreadable.chmod(0)
    try:
        if unreadable.stat().st_uid == 0:  # root reads anything; the check still must not crash
            assert read_plan_file is not None
        else:
            with pytest.raises(PlanFormatError, match="cannot read"):
                read_plan_file(unreadable)
    finally:
        unreadable.chmod(0o644)


def test_deeply_nested_values_do_not_crash() -> None:
    deep: object = "leaf"
    for _ in range(400):
        deep = {"n": deep}
    doc = {
        "format_version": "1.2",
        "resource_drift": [
            {
                "address": "a.b",
                "type": "a",
                "name": "b",
                "change": {"actions": ["update"], "before": {}, "after": deep},
            }
        ],
    }
    plan = parse_plan(json.dumps(doc))
    assert plan.drift[0].after["n"]["n"]["n"]
