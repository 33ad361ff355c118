"""`driftctl reconcile`: the loop for one workspace, and the fan-out over workspaces (I/O: all of it).

detect → draft → verify → assess → decide → act → confirm. Every step is an audit row. Only a
verified revert whose saved plan was scored and decided ``auto_apply`` is applied, and only after a
freshness check: if the state or the code moved since the plan was made, the fix is re-planned and
re-scored and the stale plan is never applied. After applying, a fresh plan must show the finding
gone, else the heal failed and counts towards the workspace's breaker. Everything else becomes a
persisted proposal; adopt fixes become a branch or a patch as well.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftctl import __version__
from driftctl.assess.decide import Gate
from driftctl.audit.history import heal_history
from driftctl.audit.llm import record_llm_attempts
from driftctl.detect.engine import Policy, Target, finish, terraform_for, workspace_plan
from driftctl.detect.findings import detect_plan
from driftctl.errors import (
    EXIT_CLEAN,
    EXIT_DRIFT,
    EXIT_ERROR,
    EXIT_HEALED,
    EXIT_SKIPPED,
    DriftctlError,
    StateLockError,
)
from driftctl.models import DecisionKind, Finding, Proposal, Strategy
from driftctl.propose import ProposeOptions, adopted_change, assess_proposal, draft_and_verify
from driftctl.reconcile.freshness import Fingerprint, fingerprint
from driftctl.reconcile.journal import SCRATCH_DIR, recover_workspace
from driftctl.reconcile.locks import (
    DEFAULT_LOCK_TTL_S,
    DatabaseWorkspaceLock,
    FileWorkspaceLock,
    WorkspaceLock,
)
from driftctl.scratch import scratch_dir, use_base
from driftctl.terraform.runner import with_lock_retry
from driftctl.verify import VerifyContext, planned_from, workspace_root

if TYPE_CHECKING:
    from driftctl.assess.engine import AssessOptions
    from driftctl.audit.store import Store
    from driftctl.draft.llm import LlmDrafter
    from driftctl.reconcile.options import LlmSettings
    from driftctl.terraform import Terraform
    from driftctl.terraform.plan import Plan

Progress = Callable[[str], None]


class Outcome(StrEnum):
    """What became of one finding."""

    HEALED = "healed"  # applied, and a fresh plan shows the drift gone
    HEAL_FAILED = "heal_failed"  # applied (or tried), and the drift is still there
    WOULD_APPLY = "would_apply"  # --dry-run: auto mode would have applied it
    PROPOSED = "proposed"  # waiting for a human: `driftctl approve ID`
    BLOCKED = "blocked"  # a policy denies the fix
    NEEDS_HUMAN = "needs_human"  # no verified fix could be drafted
    AWAITING_APPLY = "awaiting_apply"  # an approved proposal already covers it
    DETECTED = "detected"  # mode detect: reported only


class Status(StrEnum):
    CLEAN = "clean"
    HEALED = "healed"
    DRIFT = "drift"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ReconcileOptions:
    mode: str | None = None  # None: each workspace's configured mode
    dry_run: bool = False
    strategy: Strategy | None = None  # force revert or adopt for every finding; None: severity policy
    llm: LlmDrafter | None = None
    max_attempts: int = 2
    assess: AssessOptions | None = None  # None: the defaults (checkov on)
    lock_attempts: int = 4  # tries when Terraform's state lock is held by someone else
    lock_base_delay: float = 1.0
    address: str | None = None  # only the finding at this exact address (heal_finding)
    hold: str | None = None  # auto-apply held, and why: the decision proposes with this reason


@dataclass(frozen=True, slots=True)
class ItemResult:
    address: str
    severity: str
    outcome: Outcome
    strategy: str | None = None
    decision: str | None = None
    proposal_id: str | None = None
    risk: float | None = None
    confidence: float | None = None
    rationale: str = ""
    where: str | None = None  # branch, patch or plan the human should look at
    seconds: float | None = None  # from the start of the run to the verified heal


@dataclass(frozen=True, slots=True)
class WorkspaceResult:
    workspace: str
    mode: str
    status: Status
    items: tuple[ItemResult, ...] = ()
    alerts: tuple[str, ...] = ()
    error: str | None = None
    recovered: tuple[str, ...] = ()  # actions a crashed run left "started", now marked interrupted
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    run_id: str
    dry_run: bool
    workspaces: tuple[WorkspaceResult, ...]
    started_at: str = ""
    duration_s: float = 0.0

    @property
    def exit_code(self) -> int:
        """1 error, 4 skipped, 2 drift remains, 3 every finding healed, 0 nothing drifted."""
        statuses = {w.status for w in self.workspaces}
        for status, code in (
            (Status.ERROR, EXIT_ERROR),
            (Status.SKIPPED, EXIT_SKIPPED),
            (Status.DRIFT, EXIT_DRIFT),
            (Status.HEALED, EXIT_HEALED),
        ):
            if status in statuses:
                return code
        return EXIT_CLEAN


@dataclass
class Runtime:
    """What every workspace of one run shares: the store, the data directory, the options."""

    store: Store
    data_dir: Path
    policy: Policy
    options: ReconcileOptions
    progress: Progress
    run_id: str = field(default_factory=lambda: secrets.token_hex(6))
    shared_lock: bool = False  # a database lock instead of a file lock (a shared, non-SQLite store)
    config_path: Path | None = None  # the driftctl.yaml the workspaces come from (None: directories)
    llm: LlmSettings | None = None  # the configured LLM endpoint, for drafter "auto" / "llm"
    lock_ttl_s: float = DEFAULT_LOCK_TTL_S  # a database lock's expiry after its last renewal

    def audit(
        self,
        kind: str,
        status: str,
        data: dict[str, Any],
        *,
        workspace: str | None = None,
        subject: str | None = None,
    ) -> int:
        entry = self.store.append(
            kind, run_id=self.run_id, status=status, data=data, workspace=workspace, subject=subject
        )
        return entry.seq

    def lock_for(self, workspace: str, timeout: float) -> WorkspaceLock:
        if self.shared_lock:
            return DatabaseWorkspaceLock(self.store, workspace, ttl_s=self.lock_ttl_s)
        return FileWorkspaceLock(self.data_dir / "locks", workspace)

    @property
    def plans_dir(self) -> Path:
        path = self.data_dir / "plans"
        path.mkdir(parents=True, exist_ok=True, mode=0o700)  # saved plans hold state: keep them private
        return path


# -- words ---------------------------------------------------------------------------------------------


def _short(value: Any, width: int = 40) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def change_summary(finding: Finding, limit: int = 3) -> str:
    parts = [
        f"{c.path}: {_short(c.before)} → {_short(c.after)}{f' ({c.note})' if c.note else ''}"
        for c in finding.changes[:limit]
    ]
    if len(finding.changes) > limit:
        parts.append(f"and {len(finding.changes) - limit} more")
    if not parts:
        return "deleted outside Terraform" if finding.kind.value == "deleted" else "changed"
    return "; ".join(parts)


def rationale(p: Proposal) -> str:
    """A plain-language account of one proposal: what drifted, the fix, its proof, its score, the call."""
    f, d, v = p.finding, p.draft, p.verification
    what = "was deleted outside Terraform" if f.kind.value == "deleted" else f"drifted ({change_summary(f)})"
    text = [f"{f.address} {what}; severity {f.severity.value} ({f.severity_rule})."]
    if d.needs_human is not None:
        text.append(f"No automatic fix: {d.needs_human}.")
    else:
        verb = "put reality back to the code" if d.strategy is Strategy.REVERT else "change the code to match"
        why = d.rationale
        if why.startswith(f.address) and ". " in why:  # the rules drafter restates the finding first
            why = why.split(". ", 1)[1]
        text.append(f"Fix: {d.strategy.value} ({verb}), drafted by {d.drafter}. {why}".strip())
    if v is not None and d.needs_human is None:
        text.append(("Verified: " if v.ok else "Not verified: ") + v.reason.rstrip(".") + ".")
    if p.assessment is not None:
        text.append(f"Risk {p.assessment.risk:.2f}, confidence {p.assessment.confidence:.2f}.")
    if p.decision is not None:
        reasons = "; ".join(p.decision.reasons)
        if p.decision.kind is DecisionKind.AUTO_APPLY and d.strategy is Strategy.ADOPT:
            # The gate would allow it, but an adopt edits code: it waits for a review either way.
            text.append(
                f"Decision: proposed ({reasons}; adopt fixes change the code and are never applied "
                "silently: review and merge the change)."
            )
        else:
            text.append(f"Decision: {p.decision.kind.value}: {reasons}.")
    return " ".join(text)


def finding_data(f: Finding) -> dict[str, Any]:
    """A finding as stored: values were masked at parse time, so this holds no secret."""
    return {
        "address": f.address,
        "kind": f.kind.value,
        "severity": f.severity.value,
        "severity_rule": f.severity_rule,
        "changes": [
            {
                "path": c.path,
                "kind": c.kind.value,
                "before": c.before,
                "after": c.after,
                "sensitive": c.sensitive,
            }
            for c in f.changes
        ],
    }


# -- one workspace -------------------------------------------------------------------------------------


def reconcile_workspace(target: Target, rt: Runtime) -> WorkspaceResult:
    """The loop for one workspace; every expected failure is a result, never an exception."""
    started = time.perf_counter()
    mode = rt.options.mode or target.mode
    lock = rt.lock_for(target.name, target.timeout)
    if not lock.acquire():
        holder = lock.holder()
        rt.progress(f"{target.name}: skipped: another reconciler holds it ({holder})")
        rt.audit("alert", "skipped", {"message": f"workspace locked by {holder}"}, workspace=target.name)
        return WorkspaceResult(
            target.name, mode, Status.SKIPPED, alerts=(f"skipped: workspace locked by {holder}",)
        )
    try:
        recovered = _recover(target, rt) + recover_workspace(rt, target.name)
        with use_base(rt.data_dir / SCRATCH_DIR), scratch_dir("reconcile-") as tmp:
            return _reconcile(target, rt, mode, tmp, recovered, started)
    except StateLockError as exc:
        who = f" by {exc.who}" if exc.who else ""
        message = f"Terraform state locked{who} (lock {exc.lock_id}) after {rt.options.lock_attempts} tries"
        rt.progress(f"{target.name}: skipped: {message}")
        rt.audit("alert", "skipped", {"message": message}, workspace=target.name)
        return WorkspaceResult(
            target.name, mode, Status.SKIPPED, alerts=(f"skipped: {message}",), duration_s=_since(started)
        )
    except DriftctlError as exc:
        rt.progress(f"{target.name}: error: {exc.message.splitlines()[0]}")
        rt.audit("alert", "error", {"message": exc.message[:2000]}, workspace=target.name)
        return WorkspaceResult(target.name, mode, Status.ERROR, error=exc.message, duration_s=_since(started))
    finally:
        lock.release()


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _recover(target: Target, rt: Runtime) -> tuple[str, ...]:
    """Actions a crashed run left ``started`` are marked interrupted; this run re-detects from scratch."""
    notes = []
    for entry in rt.store.dangling_actions(target.name):
        note = f"action {entry.seq} ({entry.subject}) was interrupted (run {entry.run_id}); re-detecting"
        rt.progress(f"{target.name}: {note}")
        rt.audit(
            "action",
            "interrupted",
            {"started_seq": entry.seq, "message": note, "plan_sha256": entry.data.get("plan_sha256")},
            workspace=target.name,
            subject=entry.subject,
        )
        notes.append(note)
    return tuple(notes)


@dataclass
class _Work:
    """The mutable state of one workspace's run (kept out of the frozen results)."""

    target: Target
    rt: Runtime
    mode: str
    scratch: Path
    started: float
    tf_at: Callable[[Path], Terraform]
    tf: Terraform
    plan_doc: dict[str, Any] = field(default_factory=dict)
    fresh: Fingerprint | None = None
    items: list[ItemResult] = field(default_factory=list)
    applied: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # address → (action seq, id)
    alerts: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.target.name

    def say(self, message: str) -> None:
        self.rt.progress(f"{self.name}: {message}")

    def audit(self, kind: str, status: str, data: dict[str, Any], subject: str | None = None) -> int:
        return self.rt.audit(kind, status, data, workspace=self.name, subject=subject)


def _plan(work: _Work, scratch: Path) -> tuple[Plan, str]:
    o = work.rt.options
    scratch.mkdir(parents=True, exist_ok=True)
    return with_lock_retry(
        lambda: workspace_plan(work.target, work.tf, scratch, work.rt.progress),
        attempts=o.lock_attempts,
        base_delay=o.lock_base_delay,
    )


def _findings(work: _Work, plan: Plan) -> tuple[Finding, ...]:
    found, pending = detect_plan(plan)
    report = finish(
        work.name,
        str(work.target.path),
        found,
        pending,
        work.rt.policy,
        work.target.ignore_file,
        terraform_version=plan.terraform_version,
        started=work.started,
    )
    work.alerts.extend(a.message for a in report.alerts)
    return report.findings


def _reconcile(
    target: Target, rt: Runtime, mode: str, scratch: Path, recovered: tuple[str, ...], started: float
) -> WorkspaceResult:
    assert target.path is not None
    tf_at = terraform_for(target)
    work = _Work(target, rt, mode, scratch, started, tf_at, tf_at(target.path))
    code_root = workspace_root(target.path) if (target.path / ".terraform").is_dir() else target.path
    # Taken before the plan: if anything moves between the two, the later check calls it stale (safe side).
    work.fresh = fingerprint(work.tf, code_root) if (target.path / ".terraform").is_dir() else None
    plan, shown = _plan(work, scratch / "detect")
    if work.fresh is None:
        work.fresh = fingerprint(work.tf, workspace_root(target.path))
    work.plan_doc = json.loads(shown)
    findings = _findings(work, plan)
    if rt.options.address is not None:
        findings = tuple(f for f in findings if f.address == rt.options.address)
    work.say(f"{len(findings)} finding(s)")
    for f in findings:
        work.audit("finding", "detected", finding_data(f), subject=f.address)
    if mode != "detect" and not rt.options.dry_run:
        _close_resolved(work, {f.address for f in findings})
    if mode == "detect" or not findings:
        items = tuple(ItemResult(f.address, f.severity.value, Outcome.DETECTED) for f in findings)
        status = Status.DRIFT if findings else Status.CLEAN
        return WorkspaceResult(
            target.name,
            mode,
            status,
            items,
            tuple(work.alerts),
            recovered=recovered,
            duration_s=_since(started),
        )
    ctx = VerifyContext(
        workspace=target.path,
        terraform_at=tf_at,
        baseline=planned_from(plan.changes),
        var_files=target.var_files,
    )
    for i, finding in enumerate(findings):
        _one_finding(work, ctx, finding, scratch / f"f{i}")
    if work.applied:
        _confirm(work)
    items = tuple(work.items)
    status = Status.HEALED if all(i.outcome is Outcome.HEALED for i in items) else Status.DRIFT
    return WorkspaceResult(
        target.name, mode, status, items, tuple(work.alerts), recovered=recovered, duration_s=_since(started)
    )


def _close_resolved(work: _Work, drifting: set[str]) -> None:
    """Open proposals whose drift is gone (fixed by hand, or by an earlier heal) are superseded."""
    store = work.rt.store
    for row in store.proposals(workspace=work.name):
        if row.status in ("pending", "needs_human", "blocked") and row.address not in drifting:
            store.update_proposal(row.id, status="superseded", reason="the drift is gone")
            work.audit(
                "proposal", "superseded", {"proposal": row.id, "reason": "the drift is gone"}, row.address
            )


def _gate(work: _Work) -> Gate:
    t = work.target
    breaker = work.rt.store.breaker(t.name)
    since = datetime.now(UTC) - timedelta(hours=1)
    applies = work.rt.store.count_entries(
        "action", workspace=t.name, status="started", since=since, where={"auto": True}
    )
    return Gate(
        mode=work.mode,
        confidence_threshold=t.confidence_threshold,
        max_risk=t.max_risk,
        breaker_open=breaker.open,
        rate_limited=applies >= t.max_applies_per_hour,
        hold=work.rt.options.hold,
    )


def _draft(
    work: _Work, ctx: VerifyContext, finding: Finding, scratch: Path, strategy: Strategy | None = None
) -> tuple[Proposal, Path | None]:
    """Draft, verify and assess one finding; the revert plan file that was scored, if any."""
    o = work.rt.options
    options = ProposeOptions(strategy=strategy or o.strategy, llm=o.llm, max_attempts=o.max_attempts)
    kept: list[dict[str, Any]] = []
    work.say(f"drafting a fix for {finding.address}")
    proposal = draft_and_verify(finding, ctx, options, scratch, kept)
    plan_file = None
    if proposal.accepted:
        revert = proposal.draft.strategy is Strategy.REVERT and bool(kept)
        fix_plan = kept[-1] if revert else adopted_change(work.plan_doc, finding.address)
        work.say(f"assessing the fix for {finding.address}")
        history = heal_history(work.rt.store, work.name, finding.address)  # evidence for confidence
        proposal = assess_proposal(proposal, fix_plan, _gate(work), o.assess, history)
        if revert and proposal.verification is not None:
            plan_file = _scored_plan(scratch, proposal.verification.plan_sha256)
    return proposal, plan_file


def _scored_plan(scratch: Path, sha256: str | None) -> Path | None:
    """The saved plan whose bytes were scored: found by its sha256, never by its name."""
    for candidate in sorted(scratch.rglob("*.tfplan")):
        if hashlib.sha256(candidate.read_bytes()).hexdigest() == sha256:
            return candidate
    return None


def _record(work: _Work, p: Proposal) -> None:
    addr = p.finding.address
    if work.rt.options.llm is not None:
        record_llm_attempts(work.rt.store, work.rt.run_id, work.name, work.rt.options.llm.take_attempts())
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
    work.audit("proposal", "verified" if p.accepted else "rejected", data, subject=addr)
    if p.assessment is not None:
        a = p.assessment
        work.audit(
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
        work.audit(
            "decision",
            p.decision.kind.value,
            {"reasons": list(p.decision.reasons), "rationale": rationale(p)},
            subject=addr,
        )


def _one_finding(work: _Work, ctx: VerifyContext, finding: Finding, scratch: Path) -> None:
    store = work.rt.store
    addr = finding.address
    open_ones = store.open_proposals(work.name, addr)
    approved = [p for p in open_ones if p.status == "approved"]
    if approved:
        work.say(
            f"{addr}: proposal {approved[0].id} is approved; waiting for `driftctl apply {approved[0].id}`"
        )
        work.items.append(
            ItemResult(addr, finding.severity.value, Outcome.AWAITING_APPLY, proposal_id=approved[0].id)
        )
        return
    proposal, plan_file = _draft(work, ctx, finding, scratch)
    _record(work, proposal)
    decision = proposal.decision.kind if proposal.decision is not None else None
    if (
        decision is DecisionKind.AUTO_APPLY
        and proposal.draft.strategy is Strategy.REVERT
        and plan_file is not None
        and work.mode == "auto"
    ):
        if work.rt.options.dry_run:
            work.items.append(_item(proposal, Outcome.WOULD_APPLY))
            return
        proposal, plan_file, handled = _apply_fresh(work, ctx, proposal, plan_file, scratch)
        if handled:
            for old in open_ones:
                store.update_proposal(old.id, status="superseded", reason=f"healed by run {work.rt.run_id}")
            return
        decision = proposal.decision.kind if proposal.decision is not None else None
    if work.rt.options.dry_run:
        work.items.append(_item(proposal, _outcome_for(proposal)))
        return
    for old in open_ones:
        store.update_proposal(old.id, status="superseded", reason=f"superseded by run {work.rt.run_id}")
    _persist(work, proposal, plan_file)


def _outcome_for(p: Proposal) -> Outcome:
    if not p.accepted:
        return Outcome.NEEDS_HUMAN
    if p.decision is not None and p.decision.kind is DecisionKind.BLOCK:
        return Outcome.BLOCKED
    return Outcome.PROPOSED


def _item(p: Proposal, outcome: Outcome, **extra: Any) -> ItemResult:
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
        **extra,
    )


def _apply_fresh(
    work: _Work, ctx: VerifyContext, proposal: Proposal, plan_file: Path, scratch: Path
) -> tuple[Proposal, Path | None, bool]:
    """Apply the scored plan if the world has not moved; else re-plan and re-score (never the stale plan).

    Returns the proposal (re-decided if re-planned), its current scored plan, and whether it was
    applied (or the apply failed): if not, the caller turns it into a proposal.
    """
    assert work.target.path is not None
    for attempt in range(3):
        now = fingerprint(work.tf, workspace_root(work.target.path))
        assert work.fresh is not None
        moved = now.changes_since(work.fresh)
        if not moved:
            break
        addr = proposal.finding.address
        message = f"the plan for {addr} is stale ({', '.join(moved)}): re-planning and re-scoring"
        work.say(message)
        work.audit(
            "decision",
            "stale",
            {
                "message": message,
                "plan_sha256": proposal.verification.plan_sha256 if proposal.verification else None,
            },
            subject=addr,
        )
        work.fresh = now
        proposal, new_plan = _draft(
            work, ctx, proposal.finding, scratch / f"replan{attempt}", Strategy.REVERT
        )
        _record(work, proposal)
        if (
            proposal.decision is None
            or proposal.decision.kind is not DecisionKind.AUTO_APPLY
            or new_plan is None
        ):
            return proposal, new_plan, False
        plan_file = new_plan
    else:
        # Still moving after every re-plan: not applied, so it must not be stored as auto_apply (that
        # would also tag this revert with the adopt-only "never applied automatically" note).
        assert proposal.decision is not None
        held = "the state or code kept moving while re-planning"
        decision = replace(proposal.decision, kind=DecisionKind.PROPOSE, reasons=(held,))
        return replace(proposal, decision=decision), None, False
    gate = _gate(work)
    if gate.rate_limited or gate.breaker_open:  # another fix in this run may have used the last slot
        held = (
            "the hourly limit of automatic applies is reached" if gate.rate_limited else "the breaker opened"
        )
        assert proposal.decision is not None
        decision = replace(proposal.decision, kind=DecisionKind.PROPOSE, reasons=(held,))
        return replace(proposal, decision=decision), plan_file, False
    seq = _apply_plan(work, proposal, plan_file, auto=True, proposal_id=None)
    if seq is not None:
        work.applied[proposal.finding.address] = (seq, None)
        work.items.append(_item(proposal, Outcome.HEALED))  # confirmed (or not) by _confirm
    return proposal, plan_file, True


def _apply_plan(
    work: _Work, proposal: Proposal, plan_file: Path, *, auto: bool, proposal_id: str | None
) -> int | None:
    """Apply exactly ``plan_file`` after pinning its hash; the action's audit seq, or None if it failed."""
    addr = proposal.finding.address
    pinned = proposal.verification.plan_sha256 if proposal.verification else None
    actual = hashlib.sha256(plan_file.read_bytes()).hexdigest()
    if pinned is None or actual != pinned:
        raise DriftctlError(f"refusing to apply {plan_file}: its sha256 {actual} is not the scored {pinned}")
    started = work.audit(
        "action",
        "started",
        {
            "action": "apply",
            "auto": auto,
            "plan_sha256": pinned,
            "proposal": proposal_id,
            "strategy": "revert",
        },
        subject=addr,
    )
    work.say(f"applying the scored plan for {addr} (sha256 {pinned[:12]})")
    o = work.rt.options
    try:
        with_lock_retry(
            lambda: work.tf.apply(plan_file), attempts=o.lock_attempts, base_delay=o.lock_base_delay
        )
    except DriftctlError as exc:
        work.audit("action", "failed", {"started_seq": started, "message": exc.message[:2000]}, subject=addr)
        if isinstance(exc, StateLockError):
            raise  # someone else's Terraform run: the workspace is skipped; not a failed heal of ours
        work.rt.store.record_heal(work.name, False, work.target.breaker_failures)
        work.items.append(_item(proposal, Outcome.HEAL_FAILED, proposal_id=proposal_id))
        return None
    work.audit("action", "finished", {"started_seq": started, "plan_sha256": pinned}, subject=addr)
    return started


def _confirm(work: _Work) -> None:
    """Re-plan: each applied finding must be gone. Updates items, breaker and audit."""
    work.say("confirming: a fresh plan after the apply")
    plan, _ = _plan(work, work.scratch / "confirm")
    remaining = {f.address for f in _findings(work, plan)}
    elapsed = _since(work.started)
    items = []
    for item in work.items:
        if item.address not in work.applied or item.outcome is not Outcome.HEALED:
            items.append(item)
            continue
        seq, _pid = work.applied[item.address]
        ok = item.address not in remaining
        work.audit(
            "action",
            "confirmed" if ok else "heal_failed",
            {"confirms_seq": seq, "message": "the drift is gone" if ok else "the drift is still there"},
            subject=item.address,
        )
        breaker = work.rt.store.record_heal(work.name, ok, work.target.breaker_failures)
        if not ok and breaker.open:
            work.alerts.append(f"breaker open after {breaker.failures} failed heal(s): auto-apply is off")
        items.append(replace(item, outcome=Outcome.HEALED if ok else Outcome.HEAL_FAILED, seconds=elapsed))
    work.items = items


def _persist(work: _Work, p: Proposal, plan_file: Path | None) -> None:
    """A proposal a human can act on: the scored plan kept for a revert, a branch or patch for an adopt."""
    from driftctl.audit.tables import ProposalRow
    from driftctl.reconcile.publish import publish_adopt
    from driftctl.report.proposals import proposal_document

    store = work.rt.store
    assert work.target.path is not None
    pid = store.new_proposal_id()
    outcome = _outcome_for(p)
    status = {Outcome.NEEDS_HUMAN: "needs_human", Outcome.BLOCKED: "blocked"}.get(outcome, "pending")
    text = rationale(p)
    where: str | None = None
    branch = patch = kept = None
    if status == "pending" and p.draft.strategy is Strategy.ADOPT and p.draft.edits:
        message = f"driftctl: adopt drift on {p.finding.address}\n\n{text}\n\nProposal: {pid}\n"
        published = publish_adopt(
            work.target.path,
            workspace_root(work.target.path),
            p.draft.edits,
            pid,
            message,
            work.rt.data_dir / "patches",
        )
        branch = published.branch
        patch = str(published.patch_path) if published.patch_path else None
        where = published.note
    if status == "pending" and plan_file is not None:
        kept_path = work.rt.plans_dir / f"{pid}.tfplan"
        shutil.copyfile(plan_file, kept_path)
        os.chmod(kept_path, 0o600)
        kept = str(kept_path)
        where = f"saved plan {kept_path}"
    now = datetime.now(UTC).isoformat()
    a = p.assessment
    store.save_proposal(
        ProposalRow(
            id=pid,
            run_id=work.rt.run_id,
            workspace=work.name,
            address=p.finding.address,
            strategy=p.draft.strategy.value,
            status=status,
            decision=p.decision.kind.value if p.decision is not None else "none",
            risk=a.risk if a is not None else None,
            confidence=a.confidence if a is not None else None,
            rationale=text,
            summary=f"{p.draft.strategy.value} {p.finding.address}: {change_summary(p.finding)}",
            data=json.dumps(
                {"finding": finding_data(p.finding), "proposal": proposal_document(p)}, default=str
            ),
            plan_path=kept,
            plan_sha256=p.verification.plan_sha256 if p.verification is not None and kept else None,
            fingerprint=json.dumps(work.fresh.to_json()) if work.fresh is not None else None,
            branch=branch,
            patch_path=patch,
            created_at=now,
            updated_at=now,
        )
    )
    work.audit(
        "proposal",
        status,
        {"proposal": pid, "branch": branch, "patch": patch, "plan": kept, "rationale": text},
        subject=p.finding.address,
    )
    work.say(f"{p.finding.address}: {outcome.value} as proposal {pid}" + (f" ({where})" if where else ""))
    work.items.append(_item(p, outcome, proposal_id=pid, where=where))


# -- many workspaces ----------------------------------------------------------------------------------


def reconcile(targets: Sequence[Target], rt: Runtime) -> ReconcileReport:
    """Every target in turn (one Terraform at a time keeps applies predictable); one run row around them."""
    started = time.perf_counter()
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rt.audit(
        "run",
        "started",
        {
            "mode": rt.options.mode,
            "dry_run": rt.options.dry_run,
            "workspaces": [t.name for t in targets],
            "driftctl": __version__,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        },
    )
    results = tuple(reconcile_workspace(t, rt) for t in targets)
    report = ReconcileReport(rt.run_id, rt.options.dry_run, results, started_at, _since(started))
    rt.audit(
        "run",
        "finished",
        {
            "exit_code": report.exit_code,
            "workspaces": {w.workspace: w.status.value for w in results},
            "outcomes": {w.workspace: [f"{i.address}: {i.outcome.value}" for i in w.items] for w in results},
            "duration_s": report.duration_s,
        },
    )
    return report
