"""Flapping: an address drifting again within a window after K heals (pure; the clock is given)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from driftctl.assess.decide import Gate, decide
from driftctl.ledger.flapping import FlapRule, flapping, ignore_changes_ref, window_text
from driftctl.ledger.model import ItemStatus, LedgerItem
from driftctl.models import (
    Assessment,
    AttributeChange,
    ChangeKind,
    DecisionKind,
    FindingKind,
    ResourceAddress,
)

T0 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
QUEUE = ResourceAddress("aws_sqs_queue.jobs", "aws_sqs_queue", "jobs")
RULE = FlapRule(window=timedelta(hours=24), heals=3)


def episode(n: int, after: int, *, healed_at: datetime | None) -> LedgerItem:
    change = AttributeChange("visibility_timeout_seconds", ChangeKind.MODIFIED, 60, after)
    start = T0 + timedelta(hours=n)
    item = LedgerItem(f"e{n}", "ws", QUEUE, FindingKind.CHANGED, (change,), start, start)
    if healed_at is None:
        return item
    return item.closed(ItemStatus.HEALED, healed_at, f"run-{n}")


def history(*hours: float) -> list[LedgerItem]:
    return [episode(i, 5 + i, healed_at=T0 + timedelta(hours=h)) for i, h in enumerate(hours)]


def test_three_heals_within_the_window_then_drift_again_is_flapping() -> None:
    now = T0 + timedelta(hours=10)
    current = episode(9, 42, healed_at=None)
    flap = flapping(current, history(1, 2, 3), RULE, now)
    assert flap is not None
    assert flap.paths == ("visibility_timeout_seconds",)
    assert flap.ignore_changes == ("visibility_timeout_seconds",)
    assert flap.healed_at == tuple(T0 + timedelta(hours=h) for h in (1, 2, 3))
    assert "healed 3 time(s) within 24h" in flap.text
    assert "60 → 42" in flap.text and "60 → 5" in flap.text  # the values, now and before
    assert "lifecycle { ignore_changes = [visibility_timeout_seconds] }" in flap.text
    assert flap.to_json()["heals"][0] == (T0 + timedelta(hours=1)).isoformat()


def test_heals_outside_the_window_do_not_count() -> None:
    now = T0 + timedelta(hours=26)  # the heal at hour 1 is 25 h old
    assert flapping(episode(9, 42, healed_at=None), history(1, 2, 3), RULE, now) is None
    assert flapping(episode(9, 42, healed_at=None), history(1, 2, 3, 4), RULE, now) is not None


def test_fewer_heals_a_closed_item_or_heals_0_is_not_flapping() -> None:
    now = T0 + timedelta(hours=10)
    current = episode(9, 42, healed_at=None)
    assert flapping(current, history(1, 2), RULE, now) is None
    done = current.closed(ItemStatus.ACCEPTED, now, "alice")
    assert flapping(done, history(1, 2, 3), RULE, now) is None
    assert flapping(current, history(1, 2, 3), replace(RULE, heals=0), now) is None
    gone = [replace(h, status=ItemStatus.GONE) for h in history(1, 2, 3)]  # fixed by hand: not a heal
    assert flapping(current, gone, RULE, now) is None


def test_ignore_changes_names_the_attribute_or_the_map_key() -> None:
    assert ignore_changes_ref("tags.owner") == 'tags["owner"]'
    assert ignore_changes_ref('tags["a.b"]') == 'tags["a.b"]'
    assert ignore_changes_ref("ingress[0].cidr_blocks[1]") == "ingress"
    assert ignore_changes_ref("desired_capacity") == "desired_capacity"
    assert [window_text(timedelta(hours=h)) for h in (24, 48, 3)] == ["24h", "2d", "3h"]
    assert window_text(timedelta(minutes=90)) == "90m"


def test_flapping_is_an_input_of_the_decision_and_stops_auto_apply() -> None:
    confident = Assessment(risk=0.05, confidence=0.95)
    gate = Gate(mode="auto")
    assert decide(confident, gate).kind is DecisionKind.AUTO_APPLY
    held = decide(confident, replace(gate, flapping="healed 3 time(s) within 24h"))
    assert held.kind is DecisionKind.PROPOSE
    assert held.reasons == ("flapping: healed 3 time(s) within 24h",)
    denied = decide(Assessment(0.1, 0.9, denies=("no",)), replace(gate, flapping="x"))
    assert denied.kind is DecisionKind.BLOCK  # a deny still wins
