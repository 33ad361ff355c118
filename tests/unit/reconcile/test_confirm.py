"""confirm and apply_when_fresh: a heal counts only when a fresh plan shows the finding gone; failures
open the breaker; a plan that keeps going stale is proposed, never applied.

What the fresh plan still finds is passed in, the state fingerprint is a fake clock of serials, and
re-drafting is a subclass returning a fixed heal; the store is a real SQLite file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from driftctl.assess.decide import Verdict
from driftctl.audit.store import Store
from driftctl.detect.engine import Policy
from driftctl.detect.severity import load_severity_rules
from driftctl.models import (
    Assessment,
    Decision,
    DecisionKind,
    Draft,
    Finding,
    FindingKind,
    Proposal,
    ResourceAddress,
    Strategy,
    Verification,
    VerifiedFix,
)
from driftctl.reconcile.act import confirm
from driftctl.reconcile.freshness import Fingerprint
from driftctl.reconcile.heal import Drafting, Heal
from driftctl.reconcile.options import ReconcileOptions
from driftctl.reconcile.pipeline import apply_when_fresh
from driftctl.reconcile.results import ItemResult, Outcome
from driftctl.reconcile.runtime import Runtime
from driftctl.reconcile.session import WorkspaceRun
from driftctl.verify import VerifyContext

SG = "module.app.module.network.aws_security_group.web"
QUEUE = "module.app.aws_sqs_queue.jobs[0]"
TAG = "module.app.aws_cloudwatch_log_group.app"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'audit.db'}") as s:
        yield s


def a_run(store: Store, tmp_path: Path, threshold: int, now: Any = None, cls: Any = WorkspaceRun) -> Any:
    unused: Any = None  # Terraform: nothing here runs it
    rt = Runtime(store, tmp_path, Policy(load_severity_rules(None)), progress=lambda _m: None)
    target: Any = SimpleNamespace(
        name="prod",
        path=tmp_path,
        breaker_failures=threshold,
        confidence_threshold=0.85,
        max_risk=0.3,
        max_applies_per_hour=10,
    )
    options = ReconcileOptions(mode="auto")
    return cls(
        target, rt, options, Drafting(), "auto", tmp_path, time.perf_counter(), unused, unused, now or unused
    )


def confirm_with(store: Store, tmp_path: Path, threshold: int, remaining: set[str]) -> WorkspaceRun:
    run = a_run(store, tmp_path, threshold)
    for address in (SG, QUEUE):
        seq = run.audit("action", "started", {"auto": True}, subject=address)
        run.applied[address] = (seq, None)
    run.items = [
        ItemResult(SG, "critical", Outcome.HEALED),
        ItemResult(QUEUE, "medium", Outcome.HEALED),
        ItemResult(TAG, "low", Outcome.PROPOSED),
    ]
    confirm(run, remaining)
    return run


def test_a_drift_still_there_after_the_apply_is_a_failed_heal_and_opens_the_breaker(
    store: Store, tmp_path: Path
) -> None:
    run = confirm_with(store, tmp_path, 1, {SG, TAG})

    outcomes = {i.address: i.outcome for i in run.items}
    assert outcomes == {SG: Outcome.HEAL_FAILED, QUEUE: Outcome.HEALED, TAG: Outcome.PROPOSED}
    assert all(i.seconds is not None for i in run.items if i.address != TAG)
    started = {e.subject: e.seq for e in store.entries(kind="action", status="started")}
    (failed,) = store.entries(kind="action", status="heal_failed")
    (confirmed,) = store.entries(kind="action", status="confirmed")
    assert (failed.subject, failed.data["confirms_seq"]) == (SG, started[SG])
    assert (confirmed.subject, confirmed.data["confirms_seq"]) == (QUEUE, started[QUEUE])
    breaker = store.breaker("prod")
    assert breaker.open  # a later success does not close it: that is a human's `breaker reset`
    assert breaker.failures == 0
    assert run.alerts == ["breaker open after 1 failed heal(s): auto-apply is off"]


def test_failures_below_the_threshold_leave_the_breaker_closed(store: Store, tmp_path: Path) -> None:
    run = confirm_with(store, tmp_path, 3, {SG, QUEUE})
    assert {i.outcome for i in run.items if i.address != TAG} == {Outcome.HEAL_FAILED}
    breaker = store.breaker("prod")
    assert (breaker.open, breaker.failures) == (False, 2)
    assert run.alerts == []


def test_every_drift_gone_confirms_every_heal(store: Store, tmp_path: Path) -> None:
    run = confirm_with(store, tmp_path, 1, set())
    assert [i.outcome for i in run.items] == [Outcome.HEALED, Outcome.HEALED, Outcome.PROPOSED]
    assert len(store.entries(kind="action", status="confirmed")) == 2
    assert not store.breaker("prod").open


def _auto_heal(tmp_path: Path) -> Heal:
    finding = Finding(ResourceAddress(SG, "aws_security_group", "web"), FindingKind.CHANGED, ())
    fix = VerifiedFix(tmp_path / "x.tfplan", "ab" * 32, ((SG, ("update",)),))
    proposal = Proposal(
        finding,
        Draft(SG, Strategy.REVERT, "rules"),
        Verification(True, "ok", plan_sha256=fix.sha256, fix=fix),
        Assessment(risk=0.1, confidence=0.95),
        Decision(DecisionKind.AUTO_APPLY, ("all good",)),
    )
    return Heal(proposal, Verdict(proposal.decision or Decision(DecisionKind.PROPOSE, ()), apply=True))


def test_a_plan_that_stays_stale_through_every_replan_is_proposed_not_auto_applied(
    store: Store, tmp_path: Path
) -> None:
    serials = iter(range(2, 100))
    auto = _auto_heal(tmp_path)

    class Replanning(WorkspaceRun):
        def heal(self, *_a: Any, **_k: Any) -> Heal:  # every re-plan verifies and scores auto_apply again
            return auto

    run = a_run(store, tmp_path, 1, now=lambda: Fingerprint(next(serials), "l", "c"), cls=Replanning)
    run.fresh = Fingerprint(1, "l", "c")
    ctx: Any = VerifyContext(tmp_path, terraform_at=None, baseline={})  # type: ignore[arg-type]

    heal, keep_plan, handled = apply_when_fresh(run, ctx, auto, tmp_path)

    assert (keep_plan, handled, heal.apply) == (False, False, False)
    assert heal.proposal.decision is not None and heal.proposal.decision.kind is DecisionKind.PROPOSE
    assert heal.proposal.decision.reasons == ("the state or code kept moving while re-planning",)
    assert len(store.entries(kind="decision", status="stale")) == 3
    assert not store.entries(kind="action")


def test_the_gate_is_read_again_before_applying(store: Store, tmp_path: Path) -> None:
    # Another fix of the same run used the last automatic apply of the hour: this one is proposed.
    run = a_run(store, tmp_path, 1, now=lambda: Fingerprint(1, "l", "c"))
    run.target.max_applies_per_hour = 1
    run.fresh = Fingerprint(1, "l", "c")
    run.audit("action", "started", {"auto": True}, subject=QUEUE)
    ctx: Any = None

    heal, keep_plan, handled = apply_when_fresh(run, ctx, _auto_heal(tmp_path), tmp_path)

    assert (keep_plan, handled, heal.apply) == (True, False, False)
    assert heal.proposal.decision == Decision(
        DecisionKind.PROPOSE, ("the hourly limit of automatic applies is reached",)
    )
