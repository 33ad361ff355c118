"""Issue 16 item 7: an approval given while a reconcile drafts is never silently overwritten.

The reconcile reads the open proposals for an address before it drafts (seconds to minutes) and
supersedes them after. A human may approve one in between: the supersede is a compare-and-set, so the
approval stands and the run says so. Real SQLite store; Terraform never runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from driftctl.audit.store import Store
from driftctl.audit.tables import ProposalRow
from driftctl.detect.engine import Policy
from driftctl.detect.severity import load_severity_rules
from driftctl.reconcile.approvals import approve
from driftctl.reconcile.heal import Drafting
from driftctl.reconcile.options import ReconcileOptions
from driftctl.reconcile.pipeline import supersede
from driftctl.reconcile.runtime import Runtime
from driftctl.reconcile.session import WorkspaceRun

QUEUE = "aws_sqs_queue.jobs"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'driftctl.db'}") as s:
        yield s


def a_run(store: Store, tmp_path: Path, said: list[str]) -> Any:
    rt = Runtime(store, tmp_path, Policy(load_severity_rules(None)), progress=said.append)
    target: Any = SimpleNamespace(name="prod", path=tmp_path, breaker_failures=3)
    unused: Any = None  # Terraform and the fingerprint: nothing here runs them
    return WorkspaceRun(
        target,
        rt,
        ReconcileOptions(mode="auto"),
        Drafting(),
        "auto",
        tmp_path,
        time.perf_counter(),
        *[unused] * 3,
    )


def pending(store: Store) -> ProposalRow:
    return store.save_proposal(
        ProposalRow(
            id=Store.new_proposal_id(), run_id="r0", workspace="prod", address=QUEUE, strategy="revert"
        )
    )


def test_an_approval_given_while_the_run_drafted_stands(store: Store, tmp_path: Path) -> None:
    said: list[str] = []
    run = a_run(store, tmp_path, said)
    row = pending(store)
    open_ones = store.open_proposals("prod", QUEUE)  # what the run read before drafting
    approve(run.rt, row.id, "alice")  # meanwhile, a human approves it
    supersede(run, open_ones, "superseded by run r1")
    now = store.proposal(row.id)
    assert now.status == "approved" and now.approved_by == "alice"
    assert any("became approved (by alice) while this run drafted" in line for line in said)
    alerts = [e for e in store.entries(kind="alert") if e.status == "kept"]
    assert alerts and alerts[-1].data["proposal"] == row.id
    assert store.verify().ok


def test_an_untouched_proposal_is_superseded(store: Store, tmp_path: Path) -> None:
    run = a_run(store, tmp_path, [])
    row = pending(store)
    supersede(run, store.open_proposals("prod", QUEUE), "superseded by run r1")
    assert store.proposal(row.id).status == "superseded"


def test_compare_and_set_writes_nothing_when_the_status_moved(store: Store) -> None:
    row = pending(store)
    assert store.update_proposal_if(row.id, "approved", status="superseded") is None
    assert store.proposal(row.id).status == "pending"
    assert store.update_proposal_if(row.id, "pending", status="superseded") is not None
    assert store.proposal(row.id).status == "superseded"
