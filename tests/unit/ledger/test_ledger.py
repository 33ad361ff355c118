"""DriftLedger over a real SQLite store: items persist, heals count, flapping is flagged and audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from driftctl.audit.store import Store
from driftctl.detect.engine import Policy, Target, plan_findings
from driftctl.detect.findings import detect_plan
from driftctl.detect.severity import load_severity_rules
from driftctl.ledger.ledger import DriftLedger
from driftctl.ledger.model import ItemStatus
from driftctl.ledger.store import LedgerRow
from driftctl.models import Finding, PendingChange
from driftctl.terraform.plan import Plan
from tests.unit.ledger.plans import QUEUE, plan, queue

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: float = 10) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'driftctl.db'}")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(store: Store, clock: Clock) -> DriftLedger:
    return DriftLedger(store, run_id="run-1", clock=clock)


def target(tmp_path: Path, heals: int = 2) -> Target:
    return Target(name="ws", path=tmp_path, flapping_window_s=6 * 3600, flapping_heals=heals)


DRIFTED = plan(state=queue(60), reality=queue(5), code=queue(60))
ABSORBED = plan(state=queue(5), reality=queue(5), code=queue(60))
CLEAN = plan(state=queue(60), reality=queue(60), code=queue(60))


def test_drift_survives_a_refresh_only_apply_and_closes_when_gone(
    ledger: DriftLedger, clock: Clock, tmp_path: Path
) -> None:
    policy = Policy(load_severity_rules(None), ledger=ledger)
    t = target(tmp_path)
    findings, _ = plan_findings(t, DRIFTED, policy)
    assert [f.address for f in findings] == [QUEUE]
    clock.tick()
    findings, pending = plan_findings(t, ABSORBED, policy)  # without the ledger: no finding, 1 pending
    assert [f.address for f in findings] == [QUEUE] and pending == []
    assert findings[0].ledger is not None and findings[0].ledger.absorbed_at == clock.now.isoformat()
    clock.tick()
    assert plan_findings(t, CLEAN, policy)[0] == []
    (closed,) = ledger.items.history("ws", QUEUE)
    assert (closed.status, closed.times_seen, closed.first_seen) == (ItemStatus.GONE, 2, T0)


def test_a_plan_file_target_is_never_merged(ledger: DriftLedger) -> None:
    policy = Policy(load_severity_rules(None), ledger=ledger)
    findings, pending = plan_findings(Target(name="ws", plan_file=Path("p.json")), ABSORBED, policy)
    assert findings == [] and [p.address for p in pending] == [QUEUE]
    assert ledger.items.history("ws") == []


def test_heals_then_drift_again_flags_flapping_once_and_unflags_when_closed(
    ledger: DriftLedger, store: Store, clock: Clock, tmp_path: Path
) -> None:
    t = target(tmp_path, heals=2)
    for _ in range(2):
        ledger.merge(t, DRIFTED, *_detected(DRIFTED))
        clock.tick()
        ledger.healed("ws", QUEUE, "run-heal")
        clock.tick()
    findings, _ = ledger.merge(t, DRIFTED, *_detected(DRIFTED))
    assert findings[0].ledger is not None and findings[0].ledger.flapping is not None
    assert "healed 2 time(s) within 6h" in findings[0].ledger.flapping
    clock.tick()
    ledger.merge(t, DRIFTED, *_detected(DRIFTED))  # still flapping: no second flag row
    flagged = store.entries(kind="ledger")
    assert [(e.status, e.subject) for e in flagged] == [("flapping", QUEUE)]
    assert flagged[0].data["paths"] == ["visibility_timeout_seconds"] and len(flagged[0].data["heals"]) == 2
    assert flagged[0].data["threshold"] == 2 and flagged[0].data["window"] == "6h"

    item = ledger.close("ws", QUEUE, ItemStatus.ACCEPTED, "alice", "the autoscaler owns it")
    assert (item.status, item.closed_by) == (ItemStatus.ACCEPTED, "alice")
    assert [e.status for e in store.entries(kind="ledger")] == ["flapping", "unflapped", "accepted"]
    assert store.entries(kind="ledger")[-1].data == {
        "address": QUEUE,
        "by": "alice",
        "reason": "the autoscaler owns it",
    }
    assert [i.status for i in ledger.items.history("ws", QUEUE)] == [
        ItemStatus.HEALED,
        ItemStatus.HEALED,
        ItemStatus.ACCEPTED,
    ]


def test_flapping_ends_when_the_heals_age_out_of_the_window(
    ledger: DriftLedger, store: Store, clock: Clock, tmp_path: Path
) -> None:
    t = target(tmp_path, heals=1)
    ledger.merge(t, DRIFTED, *_detected(DRIFTED))
    ledger.healed("ws", QUEUE, "run-heal")
    clock.tick()
    flagged, _ = ledger.merge(t, DRIFTED, *_detected(DRIFTED))
    assert flagged[0].ledger is not None and flagged[0].ledger.flapping
    clock.tick(7 * 60)
    later, _ = ledger.merge(t, DRIFTED, *_detected(DRIFTED))
    assert later[0].ledger is not None and later[0].ledger.flapping is None
    assert [e.status for e in store.entries(kind="ledger")] == ["flapping", "unflapped"]


def test_adopted_closes_the_item_and_reopen_undoes_it(ledger: DriftLedger, tmp_path: Path) -> None:
    t = target(tmp_path)
    ledger.merge(t, DRIFTED, *_detected(DRIFTED))
    adopted = ledger.adopted("ws", QUEUE, "proposal abc")
    assert adopted is not None and adopted.status is ItemStatus.ADOPTED
    assert ledger.items.open_items("ws") == []
    ledger.reopen(adopted)
    assert [i.id for i in ledger.items.open_items("ws")] == [adopted.id]
    with pytest.raises(LookupError, match="no open drift"):
        ledger.close("ws", "aws_s3_bucket.nope", ItemStatus.IGNORED, "bob", "why")
    with pytest.raises(ValueError, match="accepted, ignored or adopted"):
        ledger.close("ws", QUEUE, ItemStatus.HEALED, "bob", "why")


def test_nothing_secret_is_stored(ledger: DriftLedger, store: Store, clock: Clock, tmp_path: Path) -> None:
    tags = {"token": "hunter2-secret"}
    marks = {"tags": {"token": True}}
    drifted = plan(
        state=queue(60, tags=tags), reality=queue(5, tags=tags), code=queue(60, tags=tags), sensitive=marks
    )
    absorbed = plan(
        state=queue(5, tags=tags), reality=queue(5, tags=tags), code=queue(60, tags=tags), sensitive=marks
    )
    ledger.merge(target(tmp_path), drifted, *_detected(drifted))
    clock.tick()
    findings, _ = ledger.merge(target(tmp_path), absorbed, *_detected(absorbed))
    assert [f.address for f in findings] == [QUEUE]
    with store.reading("dump") as s:
        dumped = repr([r.model_dump() for r in s.exec(select(LedgerRow))])
    assert "visibility_timeout_seconds" in dumped and "hunter2" not in dumped


def _detected(p: Plan) -> tuple[list[Finding], list[PendingChange]]:
    return detect_plan(p)


def test_a_dry_run_reads_the_ledger_and_writes_nothing(
    ledger: DriftLedger, store: Store, clock: Clock, tmp_path: Path
) -> None:
    t = target(tmp_path, heals=1)
    policy = Policy(load_severity_rules(None), ledger=ledger)
    fresh, _ = plan_findings(t, DRIFTED, policy, record=False)
    assert [f.address for f in fresh] == [QUEUE] and ledger.items.history("ws") == []
    plan_findings(t, DRIFTED, policy)
    ledger.healed("ws", QUEUE, "run-heal")
    clock.tick()
    before = [(i.id, i.status, i.times_seen, i.last_seen) for i in ledger.items.history("ws")]

    carried, _ = plan_findings(t, DRIFTED, policy, record=False)  # would flag flapping if recorded

    assert carried[0].ledger is not None and carried[0].ledger.flapping is not None  # still shown
    assert [(i.id, i.status, i.times_seen, i.last_seen) for i in ledger.items.history("ws")] == before
    assert store.entries(kind="ledger") == []


def test_for_run_writes_its_audit_rows_under_the_new_run_id(
    ledger: DriftLedger, store: Store, clock: Clock, tmp_path: Path
) -> None:
    t = target(tmp_path, heals=1)
    ledger.merge(t, DRIFTED, *_detected(DRIFTED))
    ledger.healed("ws", QUEUE, "run-heal")
    clock.tick()
    ledger.for_run("run-2").merge(t, DRIFTED, *_detected(DRIFTED))
    assert [(e.status, e.run_id) for e in store.entries(kind="ledger")] == [("flapping", "run-2")]
