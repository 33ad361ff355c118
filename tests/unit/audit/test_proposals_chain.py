"""Issue 16 item 3: a proposal's status and content are inside the tamper evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftctl.audit.proposals import (
    ProposalIntegrityError,
    proposal_digest,
    require_chained_approval,
)
from driftctl.audit.store import Store
from driftctl.audit.tables import ProposalRow

from .conftest import tamper

DIFF = "--- a/main.tf\n+++ b/main.tf\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
EVIL = '--- a/main.tf\n+++ b/main.tf\n@@ -1 +1 @@\n-a = 1\n+a = 2\n+provisioner "local-exec" {}\n'


def _data(diff: str) -> str:
    return json.dumps({"proposal": {"edits": [{"path": "main.tf", "diff": diff}]}})


def _proposal(store: Store, pid: str = "abcdef123456", strategy: str = "adopt") -> ProposalRow:
    return store.save_proposal(
        ProposalRow(
            id=pid,
            run_id="run-1",
            workspace="prod",
            address="aws_s3_bucket.logs",
            strategy=strategy,
            data=_data(DIFF),
            plan_sha256="1" * 64 if strategy == "revert" else None,
        )
    )


def _approve(store: Store, pid: str) -> None:
    """What ``driftctl approve`` does: the status change (chained by the store) and the approval row."""
    row = store.update_proposal(pid, status="approved", approved_by="alice")
    store.append(
        "approval", run_id="r", status="approved", data={"proposal": pid, "by": "alice"},
        workspace=row.workspace, subject=row.address,
    )  # fmt: skip


def test_every_state_change_is_a_chained_row_with_the_content_digest(store: Store) -> None:
    row = _proposal(store)
    _approve(store, row.id)
    store.update_proposal(row.id, status="applied", reason="done")
    states = store.proposal_states(row.id)
    assert [(e.status, e.data["state"]) for e in states] == [
        ("pending", "pending"),
        ("approved", "approved"),
        ("applied", "applied"),
    ]
    assert {e.data["digest"] for e in states} == {proposal_digest(row)}
    assert states[1].data["by"] == "alice"
    assert store.verify().ok


def test_a_legitimately_approved_proposal_passes_the_gate(store: Store) -> None:
    row = _proposal(store)
    _approve(store, row.id)
    approval = require_chained_approval(store, store.proposal(row.id))
    assert approval.kind == "approval" and approval.data["proposal"] == row.id


def test_status_set_to_approved_in_the_database_is_refused_and_named(store: Store, db_path: Path) -> None:
    row = _proposal(store)
    tamper(db_path, "UPDATE driftctl_proposal SET status = 'approved' WHERE id = ?", row.id)
    with pytest.raises(ProposalIntegrityError) as caught:
        require_chained_approval(store, store.proposal(row.id))
    assert caught.value.message == (
        f"refusing to apply proposal {row.id}: status approved in the database, but its chained state is "
        "pending (status edited behind the store)"
    )
    assert caught.value.exit_code == 1
    assert store.verify().problems == (
        f"proposal {row.id}: status approved in the database, but its chained state is pending (status "
        "edited behind the store)",
    )


@pytest.mark.parametrize("approve_first", [True, False])
def test_a_replaced_diff_is_refused_and_named(store: Store, db_path: Path, approve_first: bool) -> None:
    row = _proposal(store)
    if approve_first:
        _approve(store, row.id)
    tamper(db_path, "UPDATE driftctl_proposal SET data = ? WHERE id = ?", _data(EVIL), row.id)
    problem = store.verify().problems
    assert len(problem) == 1
    assert problem[0].startswith(
        f"proposal {row.id}: its content (diff / plan sha256) does not match the chained"
    )
    if approve_first:
        with pytest.raises(ProposalIntegrityError, match=f"refusing to apply proposal {row.id}: its content"):
            require_chained_approval(store, store.proposal(row.id))
    else:
        # Approving the edited content is refused too: a human would be approving what was not drafted.
        with pytest.raises(ProposalIntegrityError, match="cannot be approved"):
            store.update_proposal(row.id, status="approved", approved_by="alice")


def test_a_replaced_plan_hash_is_refused(store: Store, db_path: Path) -> None:
    row = _proposal(store, strategy="revert")
    _approve(store, row.id)
    tamper(db_path, "UPDATE driftctl_proposal SET plan_sha256 = ? WHERE id = ?", "2" * 64, row.id)
    with pytest.raises(ProposalIntegrityError, match="does not match the chained digest"):
        require_chained_approval(store, store.proposal(row.id))


def test_a_superseded_update_does_not_launder_edited_content(store: Store, db_path: Path) -> None:
    row = _proposal(store)
    tamper(db_path, "UPDATE driftctl_proposal SET data = ? WHERE id = ?", _data(EVIL), row.id)
    store.update_proposal(row.id, status="superseded", reason="newer run")
    last = store.proposal_states(row.id)[-1]
    assert last.data["digest"] == proposal_digest(row)  # the drafted content's digest is kept
    assert "content_mismatch" in last.data
    assert not store.verify().ok


def test_approved_state_without_an_approval_row_is_refused(store: Store) -> None:
    row = _proposal(store)
    store.update_proposal(row.id, status="approved")  # a status change through the store, no approval row
    with pytest.raises(ProposalIntegrityError, match="no chained approval row follows its approved state"):
        require_chained_approval(store, store.proposal(row.id))


def test_a_broken_chain_refuses_every_apply(store: Store, db_path: Path) -> None:
    row = _proposal(store)
    _approve(store, row.id)
    tamper(db_path, "UPDATE driftctl_audit SET status = 'x' WHERE seq = 1")
    with pytest.raises(ProposalIntegrityError, match=r"the audit chain is broken \(seq 1: MAC"):
        require_chained_approval(store, store.proposal(row.id))


def test_a_proposal_inserted_behind_the_store_is_named(store: Store, db_path: Path) -> None:
    _proposal(store)
    tamper(
        db_path,
        "INSERT INTO driftctl_proposal (id, run_id, workspace, address, strategy, status, decision,"
        " rationale, summary, data, created_at, updated_at)"
        " VALUES ('ffff00001111', 'r', 'prod', 'a.b', 'adopt', 'approved', '', '', '', '{}', 't', 't')",
    )
    assert store.verify().problems == (
        "proposal ffff00001111: no chained state (written behind the store, or before proposals were "
        "chained)",
    )
