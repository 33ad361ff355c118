"""`driftctl reconcile`: the loop for one workspace, and the fan-out over workspaces (I/O: all of it).

detect → draft → verify → assess → decide → act → confirm. Every step is an audit row. Only a fix
decided to apply now (a verified revert whose pinned plan was scored ``auto_apply``) is applied, and
only after a freshness check: if the state or the code moved since the plan was made, the fix is
re-planned and re-scored and the stale plan is never applied. After applying, a fresh plan must show
the finding gone, else the heal failed and counts towards the workspace's breaker. Everything else
becomes a persisted proposal; adopt fixes become a branch or a patch as well.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl import __version__
from driftctl.detect.engine import Target
from driftctl.errors import DriftctlError, StateLockError
from driftctl.models import Finding, Strategy
from driftctl.reconcile.act import apply_fix, confirm
from driftctl.reconcile.heal import Drafting, Heal, decided
from driftctl.reconcile.journal import SCRATCH_DIR, recover_workspace
from driftctl.reconcile.narrate import finding_data
from driftctl.reconcile.options import ReconcileOptions
from driftctl.reconcile.persist import close_resolved, item, outcome_for, persist, record
from driftctl.reconcile.results import ItemResult, Outcome, ReconcileReport, Status, WorkspaceResult
from driftctl.reconcile.runtime import Runtime
from driftctl.reconcile.session import WorkspaceRun, drafting_for, verify_context
from driftctl.scratch import scratch_dir, use_base
from driftctl.verify import VerifyContext

if TYPE_CHECKING:
    from driftctl.audit.tables import ProposalRow

STALE_REPLANS = 3


def reconcile_workspace(
    target: Target,
    rt: Runtime,
    options: ReconcileOptions,
    *,
    address: str | None = None,
    drafting: Drafting | None = None,
) -> WorkspaceResult:
    """The loop for one workspace (only the finding at ``address``, when given); every expected
    failure is a result, never an exception. ``drafting``: shared by the workspaces of one run (one
    LLM client and its breaker); built from ``options`` when not given."""
    drafting = drafting or drafting_for(options, rt)
    started = time.perf_counter()
    mode = options.mode or target.mode
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
        # Scratch (saved plans hold state) under .driftctl/tmp, 0700, owned by this pid: a killed
        # run's is swept by the next one (driftctl.scratch).
        with use_base(rt.data_dir / SCRATCH_DIR), scratch_dir("reconcile-") as tmp:
            run = WorkspaceRun.open(target, rt, options, tmp, mode=mode, started=started, drafting=drafting)
            return _reconcile(run, recovered, address)
    except StateLockError as exc:
        who = f" by {exc.who}" if exc.who else ""
        message = f"Terraform state locked{who} (lock {exc.lock_id}) after {options.lock_attempts} tries"
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


def _reconcile(run: WorkspaceRun, recovered: tuple[str, ...], address: str | None) -> WorkspaceResult:
    target = run.target
    assert target.path is not None
    initialised = (target.path / ".terraform").is_dir()
    # Taken before the plan: if anything moves between the two, the later check calls it stale (safe side).
    run.fresh = run.now() if initialised else None
    plan, findings = run.detect(run.scratch / "detect")
    if run.fresh is None:
        run.fresh = run.now()
    if address is not None:
        findings = tuple(f for f in findings if f.address == address)
    run.say(f"{len(findings)} finding(s)")
    for f in findings:
        run.audit("finding", "detected", finding_data(f), subject=f.address)
    if run.mode != "detect" and not run.options.dry_run and address is None:
        close_resolved(run, {f.address for f in findings})
    if run.mode == "detect" or not findings:
        items = tuple(
            ItemResult(f.address, f.severity.value, Outcome.DETECTED, ledger=f.ledger) for f in findings
        )
        return _result(run, Status.DRIFT if findings else Status.CLEAN, items, recovered)
    ctx = verify_context(target, run.tf_at, plan)
    for i, finding in enumerate(findings):
        _one_finding(run, ctx, finding, run.scratch / f"f{i}")
    if run.applied:
        run.say("confirming: a fresh plan after the apply")
        confirm(run, run.remaining(run.scratch / "confirm"))
    items = tuple(run.items)
    status = Status.HEALED if all(i.outcome is Outcome.HEALED for i in items) else Status.DRIFT
    return _result(run, status, items, recovered)


def _result(
    run: WorkspaceRun, status: Status, items: tuple[ItemResult, ...], recovered: tuple[str, ...]
) -> WorkspaceResult:
    return WorkspaceResult(
        run.name,
        run.mode,
        status,
        items,
        tuple(run.alerts),
        recovered=recovered,
        duration_s=_since(run.started),
    )


def _one_finding(run: WorkspaceRun, ctx: VerifyContext, finding: Finding, scratch: Path) -> None:
    store = run.rt.store
    addr = finding.address
    open_ones = store.open_proposals(run.name, addr)
    approved = [p for p in open_ones if p.status == "approved"]
    if approved:
        run.say(
            f"{addr}: proposal {approved[0].id} is approved; waiting for `driftctl apply {approved[0].id}`"
        )
        run.items.append(
            ItemResult(
                addr,
                finding.severity.value,
                Outcome.AWAITING_APPLY,
                proposal_id=approved[0].id,
                ledger=finding.ledger,
            )
        )
        return
    heal = run.heal(ctx, finding, scratch)
    record(run, heal.proposal)
    keep_plan = True
    if heal.apply:
        if run.options.dry_run:
            run.items.append(item(heal.proposal, Outcome.WOULD_APPLY))
            return
        heal, keep_plan, handled = apply_when_fresh(run, ctx, heal, scratch)
        if handled:
            supersede(run, open_ones, f"healed by run {run.rt.run_id}")
            return
    if run.options.dry_run:
        run.items.append(item(heal.proposal, outcome_for(heal.proposal)))
        return
    supersede(run, open_ones, f"superseded by run {run.rt.run_id}")
    run.items.append(persist(run, heal, keep_plan=keep_plan))


def supersede(run: WorkspaceRun, open_ones: list[ProposalRow], reason: str) -> None:
    """Supersede the proposals read before drafting, each only if nobody changed it meanwhile: an
    approval given while this run drafted is kept, and said, never silently overwritten."""
    for old in open_ones:
        if run.rt.store.update_proposal_if(old.id, old.status, status="superseded", reason=reason) is None:
            now = run.rt.store.proposal(old.id)
            message = (
                f"proposal {old.id} became {now.status}"
                + (f" (by {now.approved_by})" if now.status == "approved" and now.approved_by else "")
                + f" while this run drafted; it is left {now.status}, not superseded"
            )
            run.say(f"{old.address}: {message}")
            run.audit("alert", "kept", {"proposal": old.id, "message": message}, old.address)


def apply_when_fresh(
    run: WorkspaceRun, ctx: VerifyContext, heal: Heal, scratch: Path
) -> tuple[Heal, bool, bool]:
    """Apply the scored plan if the world has not moved; else re-plan and re-score (never the stale plan).

    Returns the heal (re-decided if re-planned), whether its plan may be kept for a human, and whether
    it was applied (or the apply failed): if not, the caller turns it into a proposal.
    """
    assert run.fresh is not None
    addr = heal.proposal.finding.address
    for attempt in range(STALE_REPLANS):
        now = run.now()
        moved = now.changes_since(run.fresh)
        if not moved:
            break
        message = f"the plan for {addr} is stale ({', '.join(moved)}): re-planning and re-scoring"
        run.say(message)
        v = heal.proposal.verification
        run.audit(
            "decision",
            "stale",
            {"message": message, "plan_sha256": v.plan_sha256 if v else None},
            subject=addr,
        )
        run.fresh = now
        heal = run.heal(ctx, heal.proposal.finding, scratch / f"replan{attempt}", Strategy.REVERT)
        record(run, heal.proposal)
        if not heal.apply:
            return heal, True, False
    else:
        # Still moving after every re-plan: not applied, and its plan is not kept (it is stale).
        return (
            decided(heal.proposal, run.gate(held=("the state or code kept moving while re-planning",))),
            False,
            False,
        )
    # The gate again: another fix in this run may have used the last slot, or opened the breaker.
    again = decided(heal.proposal, run.gate())
    if not again.apply:
        return again, True, False
    fix = heal.fix
    assert fix is not None  # heal.apply holds only for a revert with a pinned plan
    seq = apply_fix(run, addr, fix, auto=True, proposal_id=None)
    if seq is None:
        run.items.append(item(heal.proposal, Outcome.HEAL_FAILED))
    else:
        run.applied[addr] = (seq, None)
        run.items.append(item(heal.proposal, Outcome.HEALED))  # confirmed (or not) by confirm()
    return heal, True, True


# -- many workspaces ----------------------------------------------------------------------------------


def reconcile(targets: Sequence[Target], rt: Runtime, options: ReconcileOptions) -> ReconcileReport:
    """Every target in turn (one Terraform at a time keeps applies predictable); one run row around them."""
    drafting = drafting_for(options, rt)  # a bad LLM setting is an error before anything runs
    started = time.perf_counter()
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rt.audit(
        "run",
        "started",
        {
            "mode": options.mode,
            "dry_run": options.dry_run,
            "workspaces": [t.name for t in targets],
            "driftctl": __version__,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "trigger": options.trigger,
            "requested_by": options.requested_by,
        },
    )
    results = tuple(reconcile_workspace(t, rt, options, drafting=drafting) for t in targets)
    report = ReconcileReport(rt.run_id, options.dry_run, results, started_at, _since(started))
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
