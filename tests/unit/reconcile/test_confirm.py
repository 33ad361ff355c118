"""_confirm: a heal counts only when a fresh plan shows the finding gone; failures open the breaker.

Terraform is replaced by a fixed list of what the fresh plan still finds; the store is a real SQLite file.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from driftctl.audit.store import Store
from driftctl.reconcile import pipeline
from driftctl.reconcile.pipeline import ItemResult, Outcome, ReconcileOptions, Runtime

SG = "module.app.module.network.aws_security_group.web"
QUEUE = "module.app.aws_sqs_queue.jobs[0]"
TAG = "module.app.aws_cloudwatch_log_group.app"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'audit.db'}")


def confirm(store: Store, tmp_path: Path, threshold: int) -> pipeline._Work:
    unused: Any = None  # Terraform: the fresh plan is faked below
    no_ledger: Any = SimpleNamespace(ledger=None)
    rt = Runtime(store, tmp_path, policy=no_ledger, options=ReconcileOptions(), progress=lambda _m: None)
    target: Any = SimpleNamespace(name="prod", breaker_failures=threshold)
    work = pipeline._Work(target, rt, "auto", tmp_path, time.perf_counter(), tf_at=unused, tf=unused)
    for address in (SG, QUEUE):
        seq = work.audit("action", "started", {"auto": True}, subject=address)
        work.applied[address] = (seq, None)
    work.items = [
        ItemResult(SG, "critical", Outcome.HEALED),
        ItemResult(QUEUE, "medium", Outcome.HEALED),
        ItemResult(TAG, "low", Outcome.PROPOSED),
    ]
    pipeline._confirm(work)
    return work


@pytest.fixture(autouse=True)
def fresh_plan(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    remaining: set[str] = set()
    monkeypatch.setattr(pipeline, "_plan", lambda work, scratch: (None, "{}"))
    monkeypatch.setattr(
        pipeline, "_findings", lambda work, plan: tuple(SimpleNamespace(address=a) for a in sorted(remaining))
    )
    return remaining


def test_a_drift_still_there_after_the_apply_is_a_failed_heal_and_opens_the_breaker(
    store: Store, tmp_path: Path, fresh_plan: set[str]
) -> None:
    fresh_plan |= {SG, TAG}
    work = confirm(store, tmp_path, threshold=1)

    outcomes = {i.address: i.outcome for i in work.items}
    assert outcomes == {SG: Outcome.HEAL_FAILED, QUEUE: Outcome.HEALED, TAG: Outcome.PROPOSED}
    assert all(i.seconds is not None for i in work.items if i.address != TAG)
    started = {e.subject: e.seq for e in store.entries(kind="action", status="started")}
    (failed,) = store.entries(kind="action", status="heal_failed")
    (confirmed,) = store.entries(kind="action", status="confirmed")
    assert (failed.subject, failed.data["confirms_seq"]) == (SG, started[SG])
    assert (confirmed.subject, confirmed.data["confirms_seq"]) == (QUEUE, started[QUEUE])
    breaker = store.breaker("prod")
    assert breaker.open  # a later success does not close it: that is a human's `breaker reset`
    assert breaker.failures == 0
    assert work.alerts == ["breaker open after 1 failed heal(s): auto-apply is off"]


def test_failures_below_the_threshold_leave_the_breaker_closed(
    store: Store, tmp_path: Path, fresh_plan: set[str]
) -> None:
    fresh_plan |= {SG, QUEUE}
    work = confirm(store, tmp_path, threshold=3)
    assert {i.outcome for i in work.items if i.address != TAG} == {Outcome.HEAL_FAILED}
    breaker = store.breaker("prod")
    assert (breaker.open, breaker.failures) == (False, 2)
    assert work.alerts == []


def test_every_drift_gone_confirms_every_heal(store: Store, tmp_path: Path, fresh_plan: set[str]) -> None:
    work = confirm(store, tmp_path, threshold=1)
    assert [i.outcome for i in work.items] == [Outcome.HEALED, Outcome.HEALED, Outcome.PROPOSED]
    assert len(store.entries(kind="action", status="confirmed")) == 2
    assert not store.breaker("prod").open


def test_a_plan_that_stays_stale_through_every_replan_is_proposed_not_auto_applied(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftctl.models import (
        Decision,
        DecisionKind,
        Draft,
        Finding,
        FindingKind,
        Proposal,
        ResourceAddress,
        Strategy,
        Verification,
    )
    from driftctl.reconcile.freshness import Fingerprint

    serials = iter(range(2, 100))
    monkeypatch.setattr(pipeline, "fingerprint", lambda tf, root: Fingerprint(next(serials), "l", "c"))
    finding = Finding(ResourceAddress(SG, "aws_security_group", "web"), FindingKind.CHANGED, ())
    auto = Proposal(
        finding,
        Draft(SG, Strategy.REVERT, "rules"),
        Verification(True, "ok", plan_sha256="ab" * 32),
        decision=Decision(DecisionKind.AUTO_APPLY, ("all good",)),
    )
    monkeypatch.setattr(pipeline, "_draft", lambda *a, **k: (auto, tmp_path / "x.tfplan"))
    unused: Any = None
    no_ledger: Any = SimpleNamespace(ledger=None)
    rt = Runtime(store, tmp_path, policy=no_ledger, options=ReconcileOptions(), progress=lambda _m: None)
    target: Any = SimpleNamespace(name="prod", path=tmp_path, breaker_failures=1)
    work = pipeline._Work(target, rt, "auto", tmp_path, time.perf_counter(), tf_at=unused, tf=unused)
    work.fresh = Fingerprint(1, "l", "c")

    proposal, plan_file, handled = pipeline._apply_fresh(work, unused, auto, tmp_path / "x.tfplan", tmp_path)

    assert (plan_file, handled) == (None, False)
    assert proposal.decision is not None and proposal.decision.kind is DecisionKind.PROPOSE
    assert "kept moving" in proposal.decision.reasons[0]
    assert len(store.entries(kind="decision", status="stale")) == 3
    assert not store.entries(kind="action")
