"""Act on a decided fix and confirm it: apply exactly the verified plan, then re-plan (I/O: Terraform).

The plan applied is the :class:`~driftctl.models.VerifiedFix` verification handed over, pinned by
its sha256 in the audit trail before Terraform runs; after applying, a fresh plan must show the
drift gone, else the heal failed and counts towards the workspace's breaker.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from driftctl.errors import DriftctlError, StateLockError
from driftctl.reconcile.results import Outcome
from driftctl.terraform.runner import with_lock_retry

if TYPE_CHECKING:
    from driftctl.models import VerifiedFix
    from driftctl.reconcile.session import WorkspaceRun


def apply_fix(
    run: WorkspaceRun, address: str, fix: VerifiedFix, *, auto: bool, proposal_id: str | None
) -> int | None:
    """Apply exactly ``fix.plan_file`` after pinning its hash: the ``started`` action's audit seq, or
    None if Terraform failed (audited, and counted by the breaker). A held state lock is raised: it is
    someone else's run, not a failed heal of ours. Bytes that are not the verified ones are refused."""
    actual = hashlib.sha256(fix.plan_file.read_bytes()).hexdigest()
    if actual != fix.sha256:
        raise DriftctlError(
            f"refusing to apply {fix.plan_file}: its sha256 {actual} is not the scored {fix.sha256}"
        )
    started = run.audit(
        "action",
        "started",
        {
            "action": "apply",
            "auto": auto,
            "plan_sha256": fix.sha256,
            "proposal": proposal_id,
            "strategy": "revert",
        },
        subject=address,
    )
    run.say(f"applying the scored plan for {address} (sha256 {fix.sha256[:12]})")
    o = run.options
    try:
        with_lock_retry(
            lambda: run.tf.apply(fix.plan_file), attempts=o.lock_attempts, base_delay=o.lock_base_delay
        )
    except DriftctlError as exc:
        run.audit(
            "action", "failed", {"started_seq": started, "message": exc.message[:2000]}, subject=address
        )
        if isinstance(exc, StateLockError):
            raise
        run.rt.store.record_heal(run.name, False, run.target.breaker_failures)
        return None
    run.audit("action", "finished", {"started_seq": started, "plan_sha256": fix.sha256}, subject=address)
    return started


def confirm(run: WorkspaceRun, remaining: set[str]) -> None:
    """Judge each applied finding against what a fresh plan still finds (``remaining``): updates the
    items, the breaker and the audit trail."""
    elapsed = round(time.perf_counter() - run.started, 3)
    items = []
    for item in run.items:
        if item.address not in run.applied or item.outcome is not Outcome.HEALED:
            items.append(item)
            continue
        seq, pid = run.applied[item.address]
        ok = confirmed(run, item.address, seq, remaining, proposal_id=pid)
        items.append(replace(item, outcome=Outcome.HEALED if ok else Outcome.HEAL_FAILED, seconds=elapsed))
    run.items = items


def confirmed(
    run: WorkspaceRun, address: str, seq: int, remaining: set[str], *, proposal_id: str | None = None
) -> bool:
    """One applied finding: gone from ``remaining`` or not; audited, counted by the breaker, and (when
    gone) its drift-ledger item closed as healed — the evidence flapping is judged on."""
    ok = address not in remaining
    data: dict[str, object] = {
        "confirms_seq": seq,
        "message": "the drift is gone" if ok else "the drift is still there",
    }
    if proposal_id is not None:
        data["proposal"] = proposal_id
    run.audit("action", "confirmed" if ok else "heal_failed", data, subject=address)
    breaker = run.rt.store.record_heal(run.name, ok, run.target.breaker_failures)
    ledger = run.rt.policy.ledger
    if ok and ledger is not None:
        ledger.healed(run.name, address, run.rt.run_id)
    if not ok and breaker.open:
        run.alerts.append(f"breaker open after {breaker.failures} failed heal(s): auto-apply is off")
    return ok
