"""Proposals a human can act on, and the audit rows of each heal (I/O: the store, files, git).

A proposal row holds its own versioned record (:mod:`driftctl.reconcile.records`), never a
renderer's document. A revert keeps its verified plan (private, sha256-pinned); an adopt becomes a
branch or a patch as well.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from driftctl.audit.llm import record_llm_attempts
from driftctl.models import DecisionKind, Proposal, Strategy
from driftctl.reconcile.narrate import change_summary, rationale
from driftctl.reconcile.records import encode, to_record
from driftctl.reconcile.results import ItemResult, Outcome
from driftctl.verify import workspace_root

if TYPE_CHECKING:
    from driftctl.reconcile.heal import Heal
    from driftctl.reconcile.session import WorkspaceRun


def record(run: WorkspaceRun, p: Proposal) -> None:
    """The audit rows of one heal: the verified (or rejected) proposal, its assessment, its decision."""
    addr = p.finding.address
    if run.drafting.llm is not None:  # every LLM attempt for this finding, rejected ones included
        record_llm_attempts(run.rt.store, run.rt.run_id, run.name, run.drafting.llm.take_attempts())
    data: dict[str, Any] = {
        "strategy": p.draft.strategy.value,
        "drafter": p.draft.drafter,
        "accepted": p.accepted,
    }
    if p.verification is not None:
        data |= {
            "verified": p.verification.ok,
            "reason": p.verification.reason,
            "plan_sha256": p.verification.plan_sha256,
        }
    run.audit("proposal", "verified" if p.accepted else "rejected", data, subject=addr)
    if p.assessment is not None:
        a = p.assessment
        run.audit(
            "assessment",
            "scored",
            {
                "risk": a.risk,
                "confidence": a.confidence,
                "denies": list(a.denies),
                "warnings": list(a.warnings),
                "reasons": [r.message for r in a.reasons],
            },
            subject=addr,
        )
    if p.decision is not None:
        run.audit(
            "decision",
            p.decision.kind.value,
            {"reasons": list(p.decision.reasons), "rationale": rationale(p)},
            subject=addr,
        )


def outcome_for(p: Proposal) -> Outcome:
    if not p.accepted:
        return Outcome.NEEDS_HUMAN
    if p.decision is not None and p.decision.kind is DecisionKind.BLOCK:
        return Outcome.BLOCKED
    return Outcome.PROPOSED


def item(p: Proposal, outcome: Outcome, **extra: Any) -> ItemResult:
    a = p.assessment
    return ItemResult(
        p.finding.address,
        p.finding.severity.value,
        outcome,
        strategy=p.draft.strategy.value,
        decision=p.decision.kind.value if p.decision is not None else None,
        risk=a.risk if a is not None else None,
        confidence=a.confidence if a is not None else None,
        rationale=rationale(p),
        ledger=p.finding.ledger,
        **extra,
    )


def persist(run: WorkspaceRun, heal: Heal, *, keep_plan: bool = True) -> ItemResult:
    """Save ``heal`` as a proposal: the verified plan kept for a revert, a branch or patch for an adopt."""
    from driftctl.audit.tables import ProposalRow
    from driftctl.reconcile.publish import publish_adopt

    p = heal.proposal
    store = run.rt.store
    assert run.target.path is not None
    pid = store.new_proposal_id()
    outcome = outcome_for(p)
    status = {Outcome.NEEDS_HUMAN: "needs_human", Outcome.BLOCKED: "blocked"}.get(outcome, "pending")
    text = rationale(p)  # says so when an adopt the gate would allow still waits for a review
    where: str | None = None
    branch = patch = kept = None
    if status == "pending" and p.draft.strategy is Strategy.ADOPT and p.draft.edits:
        message = f"driftctl: adopt drift on {p.finding.address}\n\n{text}\n\nProposal: {pid}\n"
        published = publish_adopt(
            run.target.path,
            workspace_root(run.target.path),
            p.draft.edits,
            pid,
            message,
            run.rt.data_dir / "patches",
        )
        branch = published.branch
        patch = str(published.patch_path) if published.patch_path else None
        where = published.note
    fix = heal.fix
    if status == "pending" and keep_plan and fix is not None and p.draft.strategy is Strategy.REVERT:
        kept_path = run.rt.plans_dir / f"{pid}.tfplan"
        shutil.copyfile(fix.plan_file, kept_path)
        os.chmod(kept_path, 0o600)
        kept = str(kept_path)
        where = f"saved plan {kept_path}"
    now = datetime.now(UTC).isoformat()
    a = p.assessment
    store.save_proposal(
        ProposalRow(
            id=pid,
            run_id=run.rt.run_id,
            workspace=run.name,
            address=p.finding.address,
            strategy=p.draft.strategy.value,
            status=status,
            decision=p.decision.kind.value if p.decision is not None else "none",
            risk=a.risk if a is not None else None,
            confidence=a.confidence if a is not None else None,
            rationale=text,
            summary=f"{p.draft.strategy.value} {p.finding.address}: {change_summary(p.finding)}",
            data=encode(to_record(p)),
            plan_path=kept,
            plan_sha256=fix.sha256 if fix is not None and kept else None,
            fingerprint=json.dumps(run.fresh.to_json()) if run.fresh is not None else None,
            branch=branch,
            patch_path=patch,
            created_at=now,
            updated_at=now,
        )
    )
    run.audit(
        "proposal",
        status,
        {"proposal": pid, "branch": branch, "patch": patch, "plan": kept, "rationale": text},
        subject=p.finding.address,
    )
    run.say(f"{p.finding.address}: {outcome.value} as proposal {pid}" + (f" ({where})" if where else ""))
    return item(p, outcome, proposal_id=pid, where=where)


def close_resolved(run: WorkspaceRun, drifting: set[str]) -> None:
    """Open proposals whose drift is gone (fixed by hand, or by an earlier heal) are superseded, an
    approved one too: applying it would now change nothing, or undo what fixed it. Drift the ledger
    still carries counts as drift (``drifting`` comes from the ledger-merged findings)."""
    from driftctl.audit.tables import OPEN_PROPOSAL_STATUSES

    store = run.rt.store
    for row in store.proposals(workspace=run.name):
        if row.status in OPEN_PROPOSAL_STATUSES and row.address not in drifting:
            closed = store.update_proposal_if(
                row.id, row.status, status="superseded", reason="the drift is gone"
            )
            if closed is None:
                continue  # changed by someone meanwhile: theirs stands
            run.audit(
                "proposal", "superseded", {"proposal": row.id, "reason": "the drift is gone"}, row.address
            )
