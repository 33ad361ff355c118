"""The ledger's merge of one plan with the open items (pure; times are given, never read)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from driftctl.detect.findings import detect_plan
from driftctl.ledger.model import (
    ItemStatus,
    LastApply,
    LedgerItem,
    Merged,
    PlanView,
    merge,
    path_steps,
    value_at,
)
from driftctl.models import AttributeChange, ChangeKind, FindingKind, ResourceAddress
from driftctl.terraform.plan import Plan, prior_values
from tests.unit.ledger.plans import QUEUE, plan, queue

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
RESOURCE = ResourceAddress(QUEUE, "aws_sqs_queue", "jobs", "module.app", 0)


def item(before: object = 60, after: object = 5, **fields: object) -> LedgerItem:
    kind = ChangeKind.MODIFIED
    change = AttributeChange("visibility_timeout_seconds", kind, before, after)
    base = LedgerItem("i0", "ws", RESOURCE, FindingKind.CHANGED, (change,), T0, T0)
    return replace(base, **fields)  # type: ignore[arg-type]


def run(p: Plan, *items: LedgerItem, last_apply: LastApply | None = None) -> Merged:
    findings, pending = detect_plan(p)
    view = PlanView(
        tuple(findings),
        tuple(pending),
        {c.resource.address: c for c in p.changes},
        prior_values(p, {i.address for i in items}),
    )
    ids = (f"n{i}" for i in count())
    return merge("ws", view, items, now=NOW, new_id=ids, last_apply=last_apply)


def test_new_drift_opens_an_item_and_the_finding_says_since_when() -> None:
    merged = run(plan(state=queue(60), reality=queue(5), code=queue(60)))
    (f,) = merged.findings
    assert f.ledger is not None and f.ledger.first_seen == NOW.isoformat() and f.ledger.absorbed_at is None
    (new,) = merged.items
    assert (new.id, new.status, new.first_seen, new.times_seen) == ("n0", ItemStatus.OPEN, NOW, 1)
    assert [(c.path, c.before, c.after) for c in new.changes] == [("visibility_timeout_seconds", 60, 5)]
    assert merged.pending == ()  # the planned revert is not code


def test_seen_again_keeps_first_seen_and_counts() -> None:
    merged = run(plan(state=queue(60), reality=queue(5), code=queue(60)), item(times_seen=4))
    (kept,) = merged.items
    assert (kept.id, kept.first_seen, kept.last_seen, kept.times_seen) == ("i0", T0, NOW, 5)


def test_drift_absorbed_into_state_is_still_drift_and_its_revert_is_not_pending_code() -> None:
    # state now holds reality (someone's refresh-only apply); no resource_drift, a planned update back
    merged = run(plan(state=queue(5), reality=queue(5), code=queue(60)), item())
    (f,) = merged.findings
    assert f.address == QUEUE and f.ledger is not None
    assert f.ledger.absorbed_at == NOW.isoformat() and f.ledger.absorbed_by is None
    assert [(c.path, c.before, c.after) for c in f.changes] == [("visibility_timeout_seconds", 60, 5)]
    assert merged.pending == ()
    (carried,) = merged.items
    assert carried.is_open and carried.absorbed_at == NOW and carried.times_seen == 2


def test_absorbed_by_names_the_run_whose_apply_came_after_it_was_last_seen() -> None:
    p = plan(state=queue(5), reality=queue(5), code=queue(60))
    after = run(p, item(), last_apply=LastApply(T0 + timedelta(minutes=1), "run-a"))
    assert after.findings[0].ledger is not None and after.findings[0].ledger.absorbed_by == "run-a"
    before = run(p, item(), last_apply=LastApply(T0 - timedelta(minutes=1), "run-old"))
    assert before.findings[0].ledger is not None and before.findings[0].ledger.absorbed_by is None


def test_absorbed_drift_the_code_does_not_plan_back_is_still_drift() -> None:
    # e.g. an attribute the HCL omits: no planned change, yet reality differs from what was applied
    merged = run(plan(state=queue(5), reality=queue(5), code=queue(5)), item())
    assert [f.address for f in merged.findings] == [QUEUE]
    assert merged.findings[0].ledger is not None and merged.findings[0].ledger.absorbed_at is not None


def test_an_item_already_absorbed_keeps_when_and_by_whom() -> None:
    earlier = T0 + timedelta(minutes=5)
    merged = run(
        plan(state=queue(5), reality=queue(5), code=queue(60)),
        item(absorbed_at=earlier, absorbed_by="run-a"),
        last_apply=LastApply(NOW, "run-b"),
    )
    (carried,) = merged.items
    assert (carried.absorbed_at, carried.absorbed_by) == (earlier, "run-a")


def test_reality_back_to_the_code_closes_the_item_as_gone() -> None:
    merged = run(plan(state=queue(60), reality=queue(60), code=queue(60)), item())
    assert merged.findings == () and merged.pending == ()
    (closed,) = merged.items
    assert (closed.status, closed.closed_at) == (ItemStatus.GONE, NOW)


def test_absorbed_then_changed_again_reports_last_applied_to_new_reality() -> None:
    # state holds the absorbed 5, reality is now 7: the plan says 5 → 7, the ledger knows 60 was applied
    merged = run(plan(state=queue(5), reality=queue(7), code=queue(60)), item())
    (f,) = merged.findings
    assert [(c.path, c.before, c.after) for c in f.changes] == [("visibility_timeout_seconds", 60, 7)]
    assert f.ledger is not None and f.ledger.absorbed_at is None  # the plan shows it again
    assert merged.pending == ()  # 7 → 60 reverts the drift


def test_absorbed_then_put_back_by_hand_is_gone() -> None:
    # the plan calls 5 → 60 drift, but 60 is what was applied from the code
    merged = run(plan(state=queue(5), reality=queue(60), code=queue(60)), item())
    assert merged.findings == ()
    assert [i.status for i in merged.items] == [ItemStatus.GONE]


def test_a_real_code_change_next_to_absorbed_drift_stays_pending() -> None:
    p = plan(state=queue(5), reality=queue(5), code=queue(60, tags={"team": "a"}))
    merged = run(p, item())
    assert [f.address for f in merged.findings] == [QUEUE]
    (pending,) = merged.pending
    assert pending.paths == ("tags.team",)


def test_a_deleted_object_removed_from_state_by_a_refresh_is_still_drift() -> None:
    deleted = replace(item(), kind=FindingKind.DELETED, changes=())
    merged = run(plan(state=None, reality=None, code=queue(60)), deleted)
    (f,) = merged.findings
    assert f.kind is FindingKind.DELETED and f.ledger is not None and f.ledger.absorbed_at is not None
    assert merged.pending == ()  # re-creating it is the revert
    back = run(plan(state=queue(60), reality=queue(60), code=queue(60)), deleted)
    assert back.findings == () and [i.status for i in back.items] == [ItemStatus.GONE]


def test_a_changed_item_whose_object_is_then_deleted_becomes_a_new_item() -> None:
    merged = run(plan(state=queue(60), reality=None, code=queue(60)), item())
    assert [(i.id, i.status, i.kind) for i in merged.items] == [
        ("i0", ItemStatus.GONE, FindingKind.CHANGED),
        ("n0", ItemStatus.OPEN, FindingKind.DELETED),
    ]


def test_a_sensitive_value_counts_as_absorbed_only_while_a_planned_change_reverts_it() -> None:
    gone = AttributeChange("tags.token", ChangeKind.REMOVED, "x", None, sensitive=True)
    secret = replace(item(), changes=(gone,))
    reverted = run(plan(state=queue(5), reality=queue(5), code=queue(5, tags={"token": "x"})), secret)
    assert [f.address for f in reverted.findings] == [QUEUE]
    quiet = run(plan(state=queue(5), reality=queue(5), code=queue(5)), secret)
    assert quiet.findings == () and quiet.items[0].status is ItemStatus.GONE


def test_set_elements_are_matched_by_value() -> None:
    rule = {"from_port": 22, "cidr_blocks": ["0.0.0.0/0"]}
    sg = ResourceAddress("aws_security_group.web", "aws_security_group", "web")
    added = AttributeChange("ingress", ChangeKind.ADDED, None, rule)
    open_item = LedgerItem("s", "ws", sg, FindingKind.CHANGED, (added,), T0, T0)
    from driftctl.ledger.model import still_in_reality

    sets = frozenset({"ingress"})
    assert still_in_reality(
        added, {"ingress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 22}]}, sets, False
    )
    assert not still_in_reality(added, {"ingress": []}, sets, False)
    assert open_item.is_open


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        ("tags.owner", ["tags", "owner"]),
        ('tags["a.b"]', ["tags", "a.b"]),
        ("ingress[0].cidr_blocks[1]", ["ingress", 0, "cidr_blocks", 1]),
        ("visibility_timeout_seconds", ["visibility_timeout_seconds"]),
    ],
)
def test_path_steps(path: str, steps: list[object]) -> None:
    assert path_steps(path) == steps


def test_value_at_and_a_bad_path() -> None:
    values = {"tags": {"a.b": "x"}, "ingress": [{"cidr_blocks": ["1", "2"]}]}
    assert value_at(values, 'tags["a.b"]') == "x"
    assert value_at(values, "ingress[0].cidr_blocks[1]") == "2"
    assert value_at(values, "ingress[3]") is not None and value_at(values, "ingress[3]") != "2"
    with pytest.raises(ValueError, match="not an attribute path"):
        path_steps("tags..x")


def test_prior_values_are_masked_and_absent_when_not_in_state() -> None:
    p = plan(
        state=queue(5, tags={"token": "hunter22"}),
        reality=queue(5, tags={"token": "hunter22"}),
        code=queue(5, tags={"token": "hunter22"}),
        sensitive={"tags": {"token": True}},
    )
    values = prior_values(p, {QUEUE, "aws_s3_bucket.missing"})
    assert set(values) == {QUEUE}
    assert "hunter22" not in repr(values)


def test_a_sensitive_value_that_keeps_changing_stays_drift_when_seen_again() -> None:
    # Both sides read "(sensitive value)": equal masks say nothing about reality going back.
    secret = {"tags": {"token": True}}
    p = plan(
        state=queue(5, tags={"token": "old"}),
        reality=queue(5, tags={"token": "new"}),
        code=queue(5, tags={"token": "old"}),
        sensitive=secret,
    )
    first = run(p)
    assert [c.note for f in first.findings for c in f.changes] == ["the value changed"]
    (opened,) = first.items
    again = run(p, opened)
    assert [f.address for f in again.findings] == [QUEUE]
    (kept,) = again.items
    assert kept.is_open and kept.times_seen == 2 and kept.absorbed_at is None
