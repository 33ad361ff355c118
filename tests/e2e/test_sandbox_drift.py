"""Real Terraform against the moto sandbox: every resource type drifts, is detected, and is healed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from driftctl.sandbox.sandbox import Sandbox

pytestmark = pytest.mark.slow

SG = "module.app.module.network.aws_security_group.web"
LOGS_BUCKET = 'module.storage["logs"].aws_s3_bucket.this'


@dataclass(frozen=True)
class Case:
    """One out-of-band change and what `plan -refresh-only` must report for it."""

    mutation: str
    address: str
    params: dict[str, str]
    resource_type: str
    check: str  # a key into CHECKS


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


CASES = [
    Case("tag", LOGS_BUCKET, {"key": "owner", "value": "mallory"}, "aws_s3_bucket", "bucket_tag"),
    Case(
        "versioning-suspend",
        'module.storage["logs"].aws_s3_bucket_versioning.this',
        {},
        "aws_s3_bucket_versioning",
        "versioning",
    ),
    Case(
        "public-access-off",
        'module.storage["assets"].aws_s3_bucket_public_access_block.this',
        {},
        "aws_s3_bucket_public_access_block",
        "public_access",
    ),
    Case(
        "encryption-kms",
        'module.storage["assets"].aws_s3_bucket_server_side_encryption_configuration.this',
        {},
        "aws_s3_bucket_server_side_encryption_configuration",
        "encryption",
    ),
    Case("sg-open-world", SG, {"port": "3389"}, "aws_security_group", "sg_open"),
    Case(
        "instance-type", 'module.app.aws_instance.web["blue"]', {"type": "m5.large"}, "aws_instance", "itype"
    ),
    Case("tag", "module.app.aws_iam_role.app", {"key": "team", "value": "x"}, "aws_iam_role", "role_tag"),
    Case("iam-policy-widen", "module.app.aws_iam_role_policy.app", {}, "aws_iam_role_policy", "policy"),
    Case(
        "queue-visibility",
        "module.app.aws_sqs_queue.jobs[0]",
        {"seconds": "5"},
        "aws_sqs_queue",
        "visibility",
    ),
    Case(
        "log-retention",
        "module.app.aws_cloudwatch_log_group.app",
        {"days": "1"},
        "aws_cloudwatch_log_group",
        "ret",
    ),
    Case("queue-delete", "module.app.aws_sqs_queue.jobs[1]", {}, "aws_sqs_queue", "deleted"),
]


def _check(case: Case, change: dict[str, Any]) -> None:
    before, after = change["before"], change["after"]
    if case.check == "deleted":
        assert change["actions"] == ["delete"]
        assert after is None and before["name"] == "driftctl-shop-jobs-1"
        return
    assert change["actions"] == ["update"]
    if case.check == "bucket_tag":
        assert "owner" not in before["tags"]
        assert after["tags"]["owner"] == "mallory"
        assert after["tags"]["data"] == "logs"  # the tags the code set are still there
    elif case.check == "versioning":
        assert _get(before, "versioning_configuration.0.status") == "Enabled"
        assert _get(after, "versioning_configuration.0.status") == "Suspended"
    elif case.check == "public_access":
        for field in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert before[field] is True and after[field] is False
    elif case.check == "encryption":
        path = "rule.0.apply_server_side_encryption_by_default.0.sse_algorithm"
        assert _get(before, path) == "AES256" and _get(after, path) == "aws:kms"
    elif case.check == "sg_open":
        opened = [r for r in after["ingress"] if r["from_port"] == 3389]
        assert opened and opened[0]["cidr_blocks"] == ["0.0.0.0/0"] and opened[0]["protocol"] == "tcp"
        assert not [r for r in before["ingress"] if r["from_port"] == 3389]
        assert [r["cidr_blocks"] for r in after["ingress"] if r["from_port"] == 443] == [["10.0.0.0/8"]]
    elif case.check == "itype":
        assert (before["instance_type"], after["instance_type"]) == ("t3.micro", "m5.large")
    elif case.check == "role_tag":
        assert "team" not in before["tags"] and after["tags"]["team"] == "x"
    elif case.check == "policy":
        assert '"Action":"*"' in after["policy"].replace(" ", "")
        assert "sqs:SendMessage" in before["policy"]
    elif case.check == "visibility":
        assert (before["visibility_timeout_seconds"], after["visibility_timeout_seconds"]) == (60, 5)
    elif case.check == "ret":
        assert (before["retention_in_days"], after["retention_in_days"]) == (30, 1)
    else:  # pragma: no cover - a typo in CASES
        raise AssertionError(case.check)


@dataclass(frozen=True)
class DriftRun:
    refresh_only: dict[str, Any]
    refresh_changes: bool
    full_plan: dict[str, Any]
    healed_changes: bool


@pytest.fixture(scope="module")
def drift_run(sandbox: Sandbox) -> DriftRun:
    """Inject every case, capture what Terraform says, heal by applying the code, re-plan."""
    for case in CASES:
        sandbox.drift(case.mutation, address=case.address, params=case.params)
    tf = sandbox.terraform()
    root = sandbox.layout.root
    refresh = tf.plan(refresh_only=True, out=root / "refresh.tfplan")
    refresh_json = tf.show_json(root / "refresh.tfplan")
    assert tf.plan(out=root / "heal.tfplan").changes
    full_json = tf.show_json(root / "heal.tfplan")
    tf.apply(root / "heal.tfplan")
    healed = tf.plan()
    return DriftRun(refresh_json, refresh.changes, full_json, healed.changes)


def test_sample_stack_covers_every_resource_type_and_address_shape(sandbox: Sandbox) -> None:
    resources = sandbox.resources()
    types = {r.type for r in resources.values()}
    assert {c.resource_type for c in CASES} <= types
    assert len(types) == 10
    for address in (
        'module.app.aws_instance.web["blue"]',
        'module.app.aws_instance.web["green"]',
        SG,
        LOGS_BUCKET,
        "module.app.aws_sqs_queue.jobs[1]",
    ):
        assert address in resources


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.resource_type}-{c.mutation}")
def test_each_out_of_band_change_is_in_resource_drift(drift_run: DriftRun, case: Case) -> None:
    drift = {d["address"]: d for d in drift_run.refresh_only.get("resource_drift", [])}
    assert case.address in drift, f"{case.address} missing from resource_drift: {sorted(drift)}"
    assert drift[case.address]["type"] == case.resource_type
    _check(case, drift[case.address]["change"])


def test_untouched_resources_do_not_drift(drift_run: DriftRun) -> None:
    drifted = {d["address"] for d in drift_run.refresh_only.get("resource_drift", [])}
    assert drifted == {c.address for c in CASES}


def test_refresh_only_plan_proposes_no_actions(drift_run: DriftRun) -> None:
    assert all(
        rc["change"]["actions"] == ["no-op"] for rc in drift_run.refresh_only.get("resource_changes", [])
    )


def test_deleted_object_is_planned_for_create(drift_run: DriftRun) -> None:
    changes = {rc["address"]: rc["change"]["actions"] for rc in drift_run.full_plan["resource_changes"]}
    assert changes["module.app.aws_sqs_queue.jobs[1]"] == ["create"]
    assert changes['module.app.aws_instance.web["blue"]'] == ["update"]
    assert changes[SG] == ["update"]
    # Nothing the drift did not touch is replaced or destroyed by the heal.
    assert not [a for a, acts in changes.items() if "delete" in acts]


def test_applying_the_code_heals_everything(drift_run: DriftRun) -> None:
    assert drift_run.healed_changes is False
