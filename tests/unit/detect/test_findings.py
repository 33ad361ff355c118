"""Findings from captured sandbox plans: exact addresses and paths, sets as sets, pending apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftctl.detect.findings import collapse_tags, detect_plan, diff_values, key_path
from driftctl.models import SENSITIVE, AttributeChange, ChangeKind, FindingKind
from driftctl.terraform.plan import read_plan_file

PLANS = Path(__file__).parents[2] / "fixtures" / "plans"


def _findings(name: str) -> dict[str, list[tuple[str, str, object, object]]]:
    findings, _ = detect_plan(read_plan_file(PLANS / name))
    return {f.address: [(c.path, c.kind.value, c.before, c.after) for c in f.changes] for f in findings}


@pytest.fixture(scope="module")
def all_drift() -> dict[str, list[tuple[str, str, object, object]]]:
    return _findings("all_drift_refresh_only.json")


def test_every_injected_drift_is_one_finding(
    all_drift: dict[str, list[tuple[str, str, object, object]]],
) -> None:
    assert len(all_drift) == 10


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ('module.app.aws_instance.web["blue"]', [("instance_type", "modified", "t3.micro", "m5.large")]),
        ("module.app.aws_sqs_queue.jobs[0]", [("visibility_timeout_seconds", "modified", 60, 5)]),
        ("module.app.aws_cloudwatch_log_group.app", [("retention_in_days", "modified", 30, 1)]),
        ('module.storage["logs"].aws_s3_bucket.this', [("tags.owner", "added", None, "mallory")]),
        (
            'module.storage["logs"].aws_s3_bucket_versioning.this',
            [("versioning_configuration[0].status", "modified", "Enabled", "Suspended")],
        ),
        (
            'module.storage["assets"].aws_s3_bucket_public_access_block.this',
            [
                ("block_public_acls", "modified", True, False),
                ("block_public_policy", "modified", True, False),
                ("ignore_public_acls", "modified", True, False),
                ("restrict_public_buckets", "modified", True, False),
            ],
        ),
        ("module.app.aws_sqs_queue.jobs[1]", []),
    ],
)
def test_exact_paths_before_and_after(
    all_drift: dict[str, list[tuple[str, str, object, object]]], address: str, expected: list[object]
) -> None:
    assert all_drift[address] == expected


def test_security_group_rule_is_one_added_set_element(
    all_drift: dict[str, list[tuple[str, str, object, object]]],
) -> None:
    changes = all_drift["module.app.module.network.aws_security_group.web"]
    assert len(changes) == 1
    path, kind, before, after = changes[0]
    assert (path, kind, before) == ("ingress", "added", None)
    assert isinstance(after, dict) and after["cidr_blocks"] == ["0.0.0.0/0"] and after["from_port"] == 22


def test_deleted_resource_is_a_deleted_finding() -> None:
    findings, _ = detect_plan(read_plan_file(PLANS / "all_drift_refresh_only.json"))
    queue = next(f for f in findings if f.address == "module.app.aws_sqs_queue.jobs[1]")
    assert queue.kind is FindingKind.DELETED


def test_tags_all_duplicate_collapses_and_the_sensitive_tag_stays_masked(
    all_drift: dict[str, list[tuple[str, str, object, object]]],
) -> None:
    paths = [c[0] for c in all_drift['module.storage["logs"].aws_s3_bucket.this']]
    assert paths == ["tags.owner"]  # not tags_all.owner too


def test_a_normal_plan_reports_drift_and_keeps_reverts_out_of_pending() -> None:
    findings, pending = detect_plan(read_plan_file(PLANS / "all_drift_normal.json"))
    assert len(findings) == 10
    assert pending == []  # every planned change there is the revert of a drift (or follows from one)


def test_pending_code_change_next_to_drift_is_reported_apart() -> None:
    findings, pending = detect_plan(read_plan_file(PLANS / "pending_and_drift_normal.json"))
    assert [f.address for f in findings] == ['module.app.aws_instance.web["green"]']
    assert [(p.address, p.actions, p.paths) for p in pending] == [
        ("module.app.aws_cloudwatch_log_group.app", ("update",), ("retention_in_days",))
    ]


def test_clean_plan_has_no_findings() -> None:
    assert detect_plan(read_plan_file(PLANS / "clean_refresh_only.json")) == ([], [])


def test_index_paths_and_odd_keys() -> None:
    changes = list(
        diff_values(
            {"ingress": [{"cidr_blocks": ["10.0.0.0/8", "10.1.0.0/16"]}], "tags": {"a.b": "1"}},
            {"ingress": [{"cidr_blocks": ["10.0.0.0/8", "0.0.0.0/0"]}], "tags": {"a.b": "2"}},
        )
    )
    assert [(c.path, c.before, c.after) for c in changes] == [
        ("ingress[0].cidr_blocks[1]", "10.1.0.0/16", "0.0.0.0/0"),
        ('tags["a.b"]', "1", "2"),
    ]
    assert (
        key_path("", "owner") == "owner"
        and key_path("tags", "kubernetes.io/role") == 'tags["kubernetes.io/role"]'
    )


def test_sets_compare_as_sets_reordering_is_no_change() -> None:
    a = {"ingress": [{"p": 1}, {"p": 2}]}
    b = {"ingress": [{"p": 2}, {"p": 1}]}
    assert list(diff_values(a, b, set_paths=frozenset({"ingress"}))) == []
    # without set semantics the same reorder looks like two edits
    assert len(list(diff_values(a, b))) == 2


def test_null_and_empty_are_the_same_to_a_user() -> None:
    assert list(diff_values({"t": None, "l": []}, {"t": {}, "l": None})) == []


def test_collapse_keeps_tags_all_when_only_it_changed() -> None:
    only_all = [AttributeChange("tags_all.env", ChangeKind.ADDED, None, "x")]
    assert collapse_tags(only_all) == tuple(only_all)


def test_sensitive_changes_are_flagged() -> None:
    from driftctl.detect.findings import record_changes
    from driftctl.models import ResourceAddress
    from driftctl.terraform.plan import ChangeRecord

    record = ChangeRecord(
        ResourceAddress("aws_db_instance.db", "aws_db_instance", "db"),
        "aws",
        ("update",),
        {"password": SENSITIVE, "port": 5432},
        {"password": SENSITIVE, "port": 5433},
    )
    assert [(c.path, c.sensitive) for c in record_changes(record)] == [("port", False)]
    record2 = ChangeRecord(
        record.resource, "aws", ("update",), {"password": "old-visible"}, {"password": SENSITIVE}
    )
    (change,) = record_changes(record2)
    assert change.sensitive and change.after == SENSITIVE


def _rec(address: str, actions: tuple[str, ...], before: object, after: object) -> object:
    from driftctl.models import ResourceAddress
    from driftctl.terraform.plan import ChangeRecord

    return ChangeRecord(ResourceAddress(address, "aws_s3_bucket", "b"), "aws", actions, before, after)


def test_code_change_at_a_drifted_path_is_still_pending() -> None:
    from driftctl.detect.findings import pending_changes

    # Someone set env=x by hand; the code meanwhile moved env from prod to staging.
    drift = _rec("aws_s3_bucket.b", ("update",), {"tags": {"env": "prod"}}, {"tags": {"env": "x"}})
    plan = _rec("aws_s3_bucket.b", ("update",), {"tags": {"env": "x"}}, {"tags": {"env": "staging"}})
    (pending,) = pending_changes([plan], [drift])  # type: ignore[list-item]
    assert pending.paths == ("tags.env",)
    # The plain revert of the same drift is not pending.
    revert = _rec("aws_s3_bucket.b", ("update",), {"tags": {"env": "x"}}, {"tags": {"env": "prod"}})
    assert pending_changes([revert], [drift]) == []  # type: ignore[list-item]


def test_recreating_a_deleted_object_is_a_revert_unless_the_code_changed_it() -> None:
    from driftctl.detect.findings import pending_changes

    gone = _rec("aws_s3_bucket.b", ("delete",), {"bucket": "b", "force_destroy": False}, None)
    same = _rec("aws_s3_bucket.b", ("create",), None, {"bucket": "b", "force_destroy": False})
    assert pending_changes([same], [gone]) == []  # type: ignore[list-item]
    changed = _rec("aws_s3_bucket.b", ("create",), None, {"bucket": "b", "force_destroy": True})
    (pending,) = pending_changes([changed], [gone])  # type: ignore[list-item]
    assert pending.paths == ("force_destroy",)
