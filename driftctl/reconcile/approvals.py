"""The human side of proposals: approve, reject, apply (I/O: the store, Terraform, files).

``apply`` re-checks before it acts: the workspace lock, the proposal's status, and for a revert the
freshness of its saved plan (state serial/lineage, code hash, the plan file's sha256). A stale plan is
never applied: the finding is re-detected, re-drafted and re-scored, and only a fix that verifies and
is not blocked is applied, as a new pinned plan. An adopt is applied by writing its verified diff
into the code and confirming that the drift no longer plans; a failed confirmation rolls it back.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.audit.proposals import require_chained_approval
from driftctl.detect.engine import Target, terraform_for
from driftctl.errors import ConfigError, DriftctlError
from driftctl.models import DecisionKind, Proposal, Strategy
from driftctl.reconcile import journal
from driftctl.reconcile.freshness import Fingerprint, changes_differ, fingerprint
from driftctl.reconcile.journal import SCRATCH_DIR, recover_workspace
from driftctl.reconcile.pipeline import Runtime, _apply_plan, _draft, _findings, _plan, _record, _Work
from driftctl.scratch import scratch_dir, use_base
from driftctl.verify import VerifyContext, planned_changes, planned_from, workspace_root

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


def apply_proposal(rt: Runtime, target: Target, proposal_id: str) -> ApplyResult:
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
        recover_workspace(rt, target.name)  # a killed apply's scratch and half-written edit
        with use_base(rt.data_dir / SCRATCH_DIR), scratch_dir("apply-") as tmp:
            assert target.path is not None
            tf_at = terraform_for(target)
            work = _Work(target, rt, "propose", tmp, time.perf_counter(), tf_at, tf_at(target.path))
            if row.strategy == Strategy.REVERT.value:
                result = _apply_revert(work, row)
            else:
                result = _apply_adopt(work, row)
    finally:
        lock.release()
    rt.store.update_proposal(row.id, status=result.status, reason=result.message)
    return result


def _apply_revert(work: _Work, row: ProposalRow) -> ApplyResult:
    assert work.target.path is not None
    root = workspace_root(work.target.path)
    now = fingerprint(work.tf, root)
    moved = now.changes_since(Fingerprint.from_json(json.loads(row.fingerprint or "{}")))
    plan_file = Path(row.plan_path) if row.plan_path else None
    if plan_file is None or not plan_file.is_file():
        moved.append("the saved plan is gone")
    elif hashlib.sha256(plan_file.read_bytes()).hexdigest() != row.plan_sha256:
        moved.append("the saved plan's bytes are not the ones scored")
    if not moved:
        assert plan_file is not None
        proposal = _stored_proposal(row)
        return _apply_and_confirm(work, row, proposal, plan_file, replanned=False)
    message = f"the plan of proposal {row.id} is stale ({', '.join(moved)}): re-planning and re-scoring"
    work.say(message)
    work.audit(
        "decision",
        "stale",
        {"proposal": row.id, "message": message, "plan_sha256": row.plan_sha256},
        row.address,
    )
    work.fresh = now
    plan, shown = _plan(work, work.scratch / "detect")
    work.plan_doc = json.loads(shown)
    finding = next((f for f in _findings(work, plan) if f.address == row.address), None)
    if finding is None:
        return ApplyResult(
            row.id, row.address, "superseded", f"{row.address} no longer drifts; nothing to apply"
        )
    ctx = VerifyContext(
        workspace=work.target.path,
        terraform_at=work.tf_at,
        baseline=planned_from(plan.changes),
        var_files=work.target.var_files,
    )
    proposal, new_plan = _draft(work, ctx, finding, work.scratch / "replan", Strategy.REVERT)
    _record(work, proposal)
    if not proposal.accepted or new_plan is None:
        why = proposal.verification.reason if proposal.verification else "no fix could be drafted"
        return ApplyResult(row.id, row.address, "stale", f"re-planned and not applied: {why}")
    if proposal.decision is not None and proposal.decision.kind is DecisionKind.BLOCK:
        return ApplyResult(
            row.id,
            row.address,
            "stale",
            "re-planned and not applied: " + "; ".join(proposal.decision.reasons),
        )
    replanned = proposal.verification.changes if proposal.verification is not None else ()
    differ = changes_differ(_approved_changes(row), replanned)  # e.g. a host without the plan file
    if differ is not None:
        return ApplyResult(row.id, row.address, "stale", f"re-planned and not applied: {differ}")
    return _apply_and_confirm(work, row, proposal, new_plan, replanned=True)


def _approved_changes(row: ProposalRow) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """The (address, actions) the approved plan would take, as stored; None for an older record."""
    verification = (json.loads(row.data).get("proposal") or {}).get("verification")
    if not isinstance(verification, dict) or "changes" not in verification:
        return None
    return tuple((str(c["address"]), tuple(c["actions"])) for c in verification["changes"])


def _stored_proposal(row: ProposalRow) -> Proposal:
    """Enough of the stored proposal to apply it: the finding's address and the pinned plan hash."""
    from driftctl.models import Draft, Finding, FindingKind, ResourceAddress, Verification

    data = json.loads(row.data)
    f = data.get("finding", {})
    finding = Finding(ResourceAddress(row.address, "", ""), FindingKind(f.get("kind", "changed")), ())
    draft = Draft(row.address, Strategy(row.strategy), "stored")
    return Proposal(finding, draft, Verification(True, "approved", plan_sha256=row.plan_sha256))


def _apply_and_confirm(
    work: _Work, row: ProposalRow, proposal: Proposal, plan_file: Path, *, replanned: bool
) -> ApplyResult:
    pinned = proposal.verification.plan_sha256 if proposal.verification else None
    seq = _apply_plan(work, proposal, plan_file, auto=False, proposal_id=row.id)
    if seq is None:
        return ApplyResult(
            row.id, row.address, "failed", "terraform apply failed; see `driftctl audit list`", pinned
        )
    plan, _ = _plan(work, work.scratch / "confirm")
    gone = row.address not in {f.address for f in _findings(work, plan)}
    work.audit(
        "action",
        "confirmed" if gone else "heal_failed",
        {"confirms_seq": seq, "proposal": row.id},
        subject=row.address,
    )
    work.rt.store.record_heal(work.name, gone, work.target.breaker_failures)
    if not gone:
        return ApplyResult(
            row.id, row.address, "failed", "applied, but the drift is still there", pinned, replanned
        )
    what = "re-planned, re-scored and applied" if replanned else "applied the approved plan"
    return ApplyResult(row.id, row.address, "applied", f"{what}; the drift is gone", pinned, replanned)


def _git_apply(root: Path, diff: str, *reverse: str) -> None:
    for check in (("--check",), ()):
        result = subprocess.run(
            ["git", "apply", "-p1", *check, *reverse, "-"],
            cwd=root,
            input=diff.encode(),
            capture_output=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            why = result.stderr.decode(errors="replace").strip()
            raise DriftctlError(f"the proposal's diff does not apply to {root}: {why}")


def _apply_adopt(work: _Work, row: ProposalRow) -> ApplyResult:
    assert work.target.path is not None
    data = json.loads(row.data)
    diff = "".join(e.get("diff", "") for e in data.get("proposal", {}).get("edits", []))
    if not diff:
        raise DriftctlError(f"proposal {row.id} holds no edit to apply")
    root = workspace_root(work.target.path)
    data_dir = work.rt.data_dir
    journal.begin(data_dir, proposal=row.id, workspace=work.name, address=row.address, root=root, diff=diff)
    try:
        return _write_adopt(work, row, root, diff)
    finally:
        journal.end(data_dir, row.id)  # confirmed or rolled back; only a kill leaves the journal


def _write_adopt(work: _Work, row: ProposalRow, root: Path, diff: str) -> ApplyResult:
    try:
        _git_apply(root, diff)
    except DriftctlError as exc:
        return ApplyResult(row.id, row.address, "stale", f"not applied: {exc.message}")
    started = work.audit(
        "action",
        "started",
        {"action": "write-code", "auto": False, "proposal": row.id, "strategy": "adopt"},
        row.address,
    )
    try:
        # The code now matches reality; a targeted apply records the refreshed object in state, which
        # is what makes the drift go away (the apply itself changes nothing in the cloud).
        plan_file = work.scratch / "adopt.tfplan"
        work.tf.plan(out=plan_file, targets=[row.address], var_files=work.target.var_files)
        changes, _digest = planned_changes(work.tf, plan_file, f"{row.address}: plan with the edit")
        if changes:
            raise DriftctlError(f"with the edit {row.address} still plans a change")
        work.tf.apply(plan_file)
        plan, _ = _plan(work, work.scratch / "confirm")
        if row.address in {f.address for f in _findings(work, plan)}:
            raise DriftctlError(f"{row.address} still drifts after the edit")
    except DriftctlError as exc:
        _git_apply(root, diff, "-R")
        work.audit(
            "action",
            "failed",
            {"started_seq": started, "message": f"rolled back: {exc.message}"},
            row.address,
        )
        return ApplyResult(row.id, row.address, "failed", f"rolled back the edit: {exc.message}")
    work.audit(
        "action", "finished", {"started_seq": started, "at": datetime.now(UTC).isoformat()}, row.address
    )
    return ApplyResult(row.id, row.address, "applied", f"wrote the adopt edit under {root}; commit it")
