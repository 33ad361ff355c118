"""The human side of proposals: approve, reject, apply (I/O: the store, Terraform, files).

``apply`` re-checks before it acts: the workspace lock, the proposal's status, and for a revert the
freshness of its saved plan (state serial/lineage, code hash, the plan file's sha256). A stale plan is
never applied: the finding is re-detected, re-drafted and re-scored (the same heal path as
`reconcile`), and only a fix that verifies and is not blocked is applied, as a new pinned plan. An
adopt is applied by writing its verified edits (from the stored record, never a rendered document)
into the code, a targeted apply and a confirming plan; if the drift stays, the edits are rolled back.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.audit.proposals import require_chained_approval
from driftctl.detect.engine import Target
from driftctl.errors import ConfigError, DriftctlError
from driftctl.models import DecisionKind, FileEdit, Strategy, VerifiedFix
from driftctl.reconcile import journal
from driftctl.reconcile.act import apply_fix, confirmed
from driftctl.reconcile.freshness import Fingerprint, changes_differ
from driftctl.reconcile.journal import SCRATCH_DIR, recover_workspace
from driftctl.reconcile.options import ReconcileOptions
from driftctl.reconcile.persist import record
from driftctl.reconcile.records import StoredProposal, decode, to_edits
from driftctl.reconcile.runtime import Runtime
from driftctl.reconcile.session import WorkspaceRun, verify_context
from driftctl.scratch import scratch_dir, use_base
from driftctl.verify import apply_edits, planned_changes, workspace_root

if TYPE_CHECKING:
    from driftctl.audit.tables import ProposalRow

APPROVABLE = ("pending",)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    proposal: str
    address: str
    status: str  # applied | failed | stale | superseded
    message: str
    plan_sha256: str | None = None
    replanned: bool = False


def who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def approve(rt: Runtime, proposal_id: str, by: str | None = None, source: str | None = None) -> ProposalRow:
    row = rt.store.proposal(proposal_id)
    if row.status not in APPROVABLE:
        raise ConfigError(
            f"proposal {row.id} is {row.status}; only a pending proposal can be approved",
            hint="`driftctl proposals` lists them with their status",
        )
    by_whom = who(by)
    row = rt.store.update_proposal(row.id, status="approved", approved_by=by_whom)
    rt.audit(
        "approval",
        "approved",
        {"proposal": row.id, "by": by_whom} | ({"source": source} if source else {}),
        workspace=row.workspace,
        subject=row.address,
    )
    return row


def reject(
    rt: Runtime, proposal_id: str, reason: str, by: str | None = None, source: str | None = None
) -> ProposalRow:
    row = rt.store.proposal(proposal_id)
    if row.status not in ("pending", "approved", "needs_human", "blocked"):
        raise ConfigError(f"proposal {row.id} is {row.status}; it can no longer be rejected")
    by_whom = who(by)
    row = rt.store.update_proposal(row.id, status="rejected", reason=reason)
    rt.audit(
        "approval",
        "rejected",
        {"proposal": row.id, "by": by_whom, "reason": reason} | ({"source": source} if source else {}),
        workspace=row.workspace,
        subject=row.address,
    )
    return row


def apply_proposal(
    rt: Runtime,
    target: Target,
    proposal_id: str,
    options: ReconcileOptions | None = None,
    *,
    by: str | None = None,
    source: str | None = None,
) -> ApplyResult:
    """Apply an approved proposal after re-checking it; ``by`` and ``source`` go into the audit trail."""
    options = options or ReconcileOptions()
    row = rt.store.proposal(proposal_id)
    if row.status != "approved":
        raise ConfigError(
            f"proposal {row.id} is {row.status}; `driftctl approve {row.id}` first"
            if row.status == "pending"
            else f"proposal {row.id} is {row.status}; only an approved proposal can be applied"
        )
    if row.workspace != target.name:
        raise ConfigError(f"proposal {row.id} belongs to workspace {row.workspace}, not {target.name}")
    require_chained_approval(rt.store, row)  # status and content as chained, and an approval row
    lock = rt.lock_for(target.name, target.timeout)
    if not lock.acquire():
        raise DriftctlError(
            f"workspace {target.name} is locked by {lock.holder()}; try again when it is done"
        )
    try:
        # Read again under the lock: a reconcile that held it may have superseded or healed it since.
        row = rt.store.proposal(row.id)
        if row.status != "approved":
            raise ConfigError(
                f"proposal {row.id} became {row.status} while waiting for the workspace lock"
                + (f" ({row.reason})" if row.reason else "")
                + "; nothing was applied"
            )
        require_chained_approval(rt.store, row)
        stored = decode(row.data, row.id)
        rt.audit(
            "approval",
            "apply_requested",
            {"proposal": row.id, "by": who(by), "source": source, "trigger": options.trigger},
            workspace=row.workspace,
            subject=row.address,
        )
        recover_workspace(rt, target.name)  # a killed apply's scratch and half-written edit
        with use_base(rt.data_dir / SCRATCH_DIR), scratch_dir("apply-") as tmp:
            run = WorkspaceRun.open(target, rt, options, tmp, mode="propose")
            if row.strategy == Strategy.REVERT.value:
                result = _apply_revert(run, row, stored)
            else:
                result = _apply_adopt(run, row, stored)
    finally:
        lock.release()
    rt.store.update_proposal(row.id, status=result.status, reason=result.message)
    return result


def _apply_revert(run: WorkspaceRun, row: ProposalRow, stored: StoredProposal) -> ApplyResult:
    assert run.target.path is not None
    now = run.now()
    moved = now.changes_since(Fingerprint.from_json(json.loads(row.fingerprint or "{}")))
    plan_file = Path(row.plan_path) if row.plan_path else None
    if plan_file is None or not plan_file.is_file():
        moved.append("the saved plan is gone")
    elif hashlib.sha256(plan_file.read_bytes()).hexdigest() != row.plan_sha256:
        moved.append("the saved plan's bytes are not the ones scored")
    if not moved and plan_file is not None and row.plan_sha256:
        v = stored.verification
        fix = VerifiedFix(plan_file, row.plan_sha256, v.changes if v is not None else ())
        return _apply_and_confirm(run, row, fix, replanned=False)
    message = f"the plan of proposal {row.id} is stale ({', '.join(moved)}): re-planning and re-scoring"
    run.say(message)
    run.audit(
        "decision",
        "stale",
        {"proposal": row.id, "message": message, "plan_sha256": row.plan_sha256},
        row.address,
    )
    run.fresh = now
    plan, findings = run.detect(run.scratch / "detect")
    finding = next((f for f in findings if f.address == row.address), None)
    if finding is None:
        return ApplyResult(
            row.id, row.address, "superseded", f"{row.address} no longer drifts; nothing to apply"
        )
    ctx = verify_context(run.target, run.tf_at, plan)
    heal = run.heal(ctx, finding, run.scratch / "replan", Strategy.REVERT)
    record(run, heal.proposal)
    proposal = heal.proposal
    if heal.fix is None:
        why = proposal.verification.reason if proposal.verification else "no fix could be drafted"
        return ApplyResult(row.id, row.address, "stale", f"re-planned and not applied: {why}")
    if proposal.decision is not None and proposal.decision.kind is DecisionKind.BLOCK:
        return ApplyResult(
            row.id,
            row.address,
            "stale",
            "re-planned and not applied: " + "; ".join(proposal.decision.reasons),
        )
    # Approved on one host, re-planned on another (no plan file here, or the state moved): applied only
    # if the new plan changes exactly what the approved one did.
    approved = stored.verification.changes if stored.verification is not None else None
    differ = changes_differ(approved, heal.fix.changes)
    if differ is not None:
        return ApplyResult(row.id, row.address, "stale", f"re-planned and not applied: {differ}")
    return _apply_and_confirm(run, row, heal.fix, replanned=True)


def _apply_and_confirm(
    run: WorkspaceRun, row: ProposalRow, fix: VerifiedFix, *, replanned: bool
) -> ApplyResult:
    seq = apply_fix(run, row.address, fix, auto=False, proposal_id=row.id)
    if seq is None:
        return ApplyResult(
            row.id, row.address, "failed", "terraform apply failed; see `driftctl audit list`", fix.sha256
        )
    gone = confirmed(run, row.address, seq, run.remaining(run.scratch / "confirm"), proposal_id=row.id)
    if not gone:
        return ApplyResult(
            row.id, row.address, "failed", "applied, but the drift is still there", fix.sha256, replanned
        )
    what = "re-planned, re-scored and applied" if replanned else "applied the approved plan"
    return ApplyResult(row.id, row.address, "applied", f"{what}; the drift is gone", fix.sha256, replanned)


def _undo(edits: tuple[FileEdit, ...]) -> tuple[FileEdit, ...]:
    return tuple(FileEdit(e.path, e.after, e.before) for e in edits)


def _apply_adopt(run: WorkspaceRun, row: ProposalRow, stored: StoredProposal) -> ApplyResult:
    assert run.target.path is not None
    edits = to_edits(stored)
    if not edits:
        raise DriftctlError(f"proposal {row.id} holds no edit to apply")
    root = workspace_root(run.target.path)
    for edit in edits:  # all checked before any is written: never half an edit
        current = root / edit.path
        if (current.read_text() if current.exists() else "") != edit.before:
            return ApplyResult(
                row.id, row.address, "stale", f"not applied: {edit.path} changed since the fix was drafted"
            )
    started = run.audit(
        "action",
        "started",
        {"action": "write-code", "auto": False, "proposal": row.id, "strategy": "adopt"},
        row.address,
    )
    journal.begin(
        run.rt.data_dir, proposal=row.id, workspace=run.name, address=row.address, root=root, edits=edits
    )
    try:
        return _write_adopt(run, row, root, edits, started)
    finally:
        journal.end(run.rt.data_dir, row.id)  # confirmed or rolled back; only a kill leaves the journal


def _write_adopt(
    run: WorkspaceRun, row: ProposalRow, root: Path, edits: tuple[FileEdit, ...], started: int
) -> ApplyResult:
    apply_edits(root, edits)
    ledger, adopted = run.rt.policy.ledger, None
    try:
        # The code now matches reality; a targeted apply records the refreshed object in state, which
        # is what makes the drift go away (the apply itself changes nothing in the cloud).
        plan_file = run.scratch / "adopt.tfplan"
        run.tf.plan(out=plan_file, targets=[row.address], var_files=run.target.var_files)
        changes, _fix = planned_changes(run.tf, plan_file, f"{row.address}: plan with the edit")
        if changes:
            raise DriftctlError(f"with the edit {row.address} still plans a change")
        run.tf.apply(plan_file)
        if ledger is not None:  # state now holds reality because the code does: not absorbed drift
            adopted = ledger.adopted(run.name, row.address, f"proposal {row.id}")
        if row.address in run.remaining(run.scratch / "confirm"):
            raise DriftctlError(f"{row.address} still drifts after the edit")
    except DriftctlError as exc:
        apply_edits(root, _undo(edits))
        if ledger is not None and adopted is not None:
            ledger.reopen(adopted)
        run.audit(
            "action",
            "failed",
            {"started_seq": started, "message": f"rolled back: {exc.message}"},
            row.address,
        )
        return ApplyResult(row.id, row.address, "failed", f"rolled back the edit: {exc.message}")
    run.audit(
        "action", "finished", {"started_seq": started, "at": datetime.now(UTC).isoformat()}, row.address
    )
    return ApplyResult(row.id, row.address, "applied", f"wrote the adopt edit under {root}; commit it")
