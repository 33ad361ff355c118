"""The drift ledger inside the core: one runtime carries it, flapping holds the one decision, a
confirmed heal closes the item, and a proposal whose drift is gone is closed even once approved.

The store is a real SQLite file; Terraform never runs (what a fresh plan still finds is passed in).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import driftctl.core as core
from driftctl.assess.decide import Gate
from driftctl.audit.store import Store
from driftctl.audit.tables import ProposalRow
from driftctl.detect.engine import Policy
from driftctl.detect.severity import load_severity_rules
from driftctl.ledger.ledger import DriftLedger
from driftctl.ledger.model import ItemStatus, LedgerItem
from driftctl.models import (
    Assessment,
    AttributeChange,
    ChangeKind,
    DecisionKind,
    Draft,
    Finding,
    FindingKind,
    LedgerNote,
    Proposal,
    ResourceAddress,
    Strategy,
    Verification,
    VerifiedFix,
)
from driftctl.reconcile.act import confirmed
from driftctl.reconcile.heal import Drafting, decided
from driftctl.reconcile.options import ReconcileOptions
from driftctl.reconcile.persist import close_resolved
from driftctl.reconcile.runtime import Runtime
from driftctl.reconcile.session import WorkspaceRun

QUEUE = "aws_sqs_queue.jobs"
RESOURCE = ResourceAddress(QUEUE, "aws_sqs_queue", "jobs")
CHANGE = AttributeChange("visibility_timeout_seconds", ChangeKind.MODIFIED, 60, 5)
EVIDENCE = "aws_sqs_queue.jobs was healed 3 time(s) within 24h and drifted again"
AUTO = Gate(mode="auto", confidence_threshold=0.85, max_risk=0.3)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'driftctl.db'}") as s:
        yield s


def a_run(store: Store, tmp_path: Path) -> Any:
    ledger = DriftLedger(store, run_id="run-1")
    rt = Runtime(store, tmp_path, Policy(load_severity_rules(None), ledger=ledger), progress=lambda _m: None)
    target: Any = SimpleNamespace(name="prod", path=tmp_path, breaker_failures=3)
    unused: Any = None  # Terraform and the fingerprint: nothing here runs them
    options = ReconcileOptions(mode="auto")
    return WorkspaceRun(
        target, rt, options, Drafting(), "auto", tmp_path, time.perf_counter(), unused, unused, unused
    )


def a_revert(finding: Finding, tmp_path: Path) -> Proposal:
    fix = VerifiedFix(tmp_path / "x.tfplan", "ab" * 32, ((QUEUE, ("update",)),))
    return Proposal(
        finding,
        Draft(QUEUE, Strategy.REVERT, "rules"),
        Verification(True, "ok", plan_sha256=fix.sha256, fix=fix),
        Assessment(risk=0.05, confidence=0.95),
    )


def test_a_flapping_address_is_proposed_whoever_built_the_gate(tmp_path: Path) -> None:
    calm = Finding(RESOURCE, FindingKind.CHANGED, (CHANGE,))
    assert decided(a_revert(calm, tmp_path), AUTO).apply

    flapping = Finding(RESOURCE, FindingKind.CHANGED, (CHANGE,), ledger=LedgerNote("t0", flapping=EVIDENCE))
    heal = decided(a_revert(flapping, tmp_path), AUTO)  # e.g. the re-decision before applying

    assert not heal.apply
    decision = heal.proposal.decision
    assert decision is not None and decision.kind is DecisionKind.PROPOSE
    assert decision.reasons == (f"flapping: {EVIDENCE}",)


def test_a_confirmed_heal_closes_the_ledger_item_and_a_failed_one_does_not(
    store: Store, tmp_path: Path
) -> None:
    run = a_run(store, tmp_path)
    ledger = run.rt.policy.ledger
    now = datetime.now(UTC)
    ledger.items.save([LedgerItem("i1", "prod", RESOURCE, FindingKind.CHANGED, (CHANGE,), now, now)])

    assert not confirmed(run, QUEUE, 1, {QUEUE})
    assert [i.status for i in ledger.items.history("prod")] == [ItemStatus.OPEN]

    assert confirmed(run, QUEUE, 2, set())
    (item,) = ledger.items.history("prod")
    assert (item.status, item.closed_by) == (ItemStatus.HEALED, run.rt.run_id)


def test_an_approved_proposal_whose_drift_is_gone_is_superseded(store: Store, tmp_path: Path) -> None:
    run = a_run(store, tmp_path)
    rows = {}
    for status in ("pending", "approved", "needs_human", "blocked", "rejected", "applied"):
        pid = store.new_proposal_id()
        store.save_proposal(
            ProposalRow(id=pid, run_id="r", workspace="prod", address=QUEUE, strategy="revert", status=status)
        )
        rows[status] = pid
    still = store.new_proposal_id()  # approved, and its drift is still there
    store.save_proposal(
        ProposalRow(
            id=still,
            run_id="r",
            workspace="prod",
            address="aws_s3_bucket.b",
            strategy="revert",
            status="approved",
        )
    )

    close_resolved(run, {"aws_s3_bucket.b"})

    after = {status: store.proposal(pid).status for status, pid in rows.items()}
    assert after == {
        "pending": "superseded",
        "approved": "superseded",
        "needs_human": "superseded",
        "blocked": "superseded",
        "rejected": "rejected",
        "applied": "applied",
    }
    assert store.proposal(still).status == "approved"


def test_the_core_runtime_carries_the_ledger_and_each_run_audits_under_its_own_id(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    config = tmp_path / "driftctl.yaml"
    config.write_text("version: 1\nworkspaces:\n  - {name: one, path: ws}\n")
    rt = core.build_runtime(config, database_url=f"sqlite:///{tmp_path / 'd.db'}")
    ledger = rt.policy.ledger
    assert isinstance(ledger, DriftLedger) and ledger.store is rt.store and ledger.run_id == rt.run_id
    run = rt.new_run()
    assert isinstance(run.policy.ledger, DriftLedger)
    assert run.run_id != rt.run_id and run.policy.ledger.run_id == run.run_id
