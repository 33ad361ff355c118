"""The public core every front door calls: the CLI, a scheduled service, PR comments, job workers.

Build a :class:`Runtime` once (store, data directory, policy, locks, progress), resolve the workspaces,
then reconcile them, heal one finding, or act on proposals. Options are plain data
(:class:`ReconcileOptions`, JSON round-trip) so a job queue can carry them; the runtime turns LLM
*settings* into a client where the work runs. Everything below this module is private to driftctl:
code against these names only. (I/O: all of it — the store, Terraform, files.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.detect.engine import Target
from driftctl.errors import ConfigError
from driftctl.reconcile.approvals import ApplyResult
from driftctl.reconcile.options import LlmSettings, ReconcileOptions
from driftctl.reconcile.records import StoredProposal
from driftctl.reconcile.results import ItemResult, Outcome, ReconcileReport, Status, WorkspaceResult
from driftctl.reconcile.runtime import Runtime

if TYPE_CHECKING:
    from driftctl.audit.store import Store
    from driftctl.audit.tables import ProposalRow

__all__ = [
    "ApplyResult",
    "ItemResult",
    "LlmSettings",
    "Outcome",
    "ReconcileOptions",
    "ReconcileReport",
    "Runtime",
    "Status",
    "StoredProposal",
    "Target",
    "WorkspaceResult",
    "apply_proposal",
    "approve_proposal",
    "build_runtime",
    "heal_finding",
    "list_proposals",
    "proposal_record",
    "reconcile",
    "reconcile_workspace",
    "reject_proposal",
    "resolve_workspaces",
]

Progress = Callable[[str], None]


def build_runtime(
    config_path: Path | None = None,
    *,
    progress: Progress | None = None,
    database_url: str | None = None,
    data_dir: Path | None = None,
    store: Store | None = None,
) -> Runtime:
    """The one place a runtime is built: the store (``database_url``, else ``$DRIFTCTL_DATABASE_URL``,
    else SQLite beside the config or in ``data_dir``), the data directory (saved plans, patches,
    locks), the severity policy with the drift ledger in that store, the LLM endpoint configured in
    driftctl.yaml (overridden by ``$DRIFTCTL_LLM_BASE_URL``, ``$DRIFTCTL_LLM_MODEL``), and the lock
    kind (a database lock for a shared, non-SQLite store).
    ``store``: one the caller already opened (the CLI opens it with its own read-only rules)."""
    from driftctl.reconcile.runtime import build_runtime as build

    return build(config_path, progress=progress, database_url=database_url, data_dir=data_dir, store=store)


def resolve_workspaces(names: Sequence[str], runtime: Runtime) -> list[Target]:
    """The named workspaces of the runtime's config (all of them when ``names`` is empty)."""
    from driftctl.detect.targets import resolve_targets

    targets, _ = resolve_targets(tuple(names), runtime.config_path, ())
    return targets


def reconcile_workspace(target: Target, runtime: Runtime, options: ReconcileOptions) -> WorkspaceResult:
    """detect → draft → verify → assess → decide → act → confirm for one workspace; expected failures
    (locks, Terraform errors) are a result, never an exception."""
    from driftctl.reconcile import pipeline

    return pipeline.reconcile_workspace(target, runtime.new_run(), options)


def reconcile(targets: Sequence[Target], runtime: Runtime, options: ReconcileOptions) -> ReconcileReport:
    """Every target in turn, inside one audited run with a fresh run id; ``exit_code`` on the report."""
    from driftctl.reconcile import pipeline

    return pipeline.reconcile(targets, runtime.new_run(), options)


def heal_finding(
    target: Target, address: str, runtime: Runtime, options: ReconcileOptions
) -> WorkspaceResult:
    """The same loop for the one finding at ``address`` (e.g. from a cloud event): the other drift of
    the workspace is left for its next run. No drift at ``address`` → a clean result."""
    from driftctl.reconcile import pipeline

    return pipeline.reconcile_workspace(target, runtime.new_run(), options, address=address)


def list_proposals(
    runtime: Runtime,
    *,
    workspace: str | None = None,
    status: str | None = None,
    open_only: bool = False,
) -> list[ProposalRow]:
    """Stored proposals, newest first; ``open_only``: those still waiting on someone."""
    from driftctl.audit.tables import OPEN_PROPOSAL_STATUSES

    rows = runtime.store.proposals(status=status, workspace=workspace)
    return [r for r in rows if r.status in OPEN_PROPOSAL_STATUSES] if open_only else rows


def proposal_record(row: ProposalRow) -> StoredProposal:
    """What a stored proposal holds (its versioned record): the finding, the strategy, the edits, the
    verification, the scores and the decision; a ConfigError naming the proposal if it is unreadable."""
    from driftctl.reconcile.records import decode

    return decode(row.data, row.id)


def approve_proposal(
    runtime: Runtime, proposal_id: str, by: str | None, *, source: str | None = None
) -> ProposalRow:
    """Approve a pending proposal; ``source`` (e.g. a comment URL) goes into the audit row."""
    from driftctl.reconcile.approvals import approve

    return approve(runtime, proposal_id, by, source)


def reject_proposal(
    runtime: Runtime, proposal_id: str, by: str | None, reason: str, *, source: str | None = None
) -> ProposalRow:
    """Reject a proposal with a reason kept in the audit trail."""
    from driftctl.reconcile.approvals import reject

    if not reason.strip():
        raise ConfigError("a rejection needs a reason")
    return reject(runtime, proposal_id, reason, by, source)


def apply_proposal(
    runtime: Runtime,
    proposal_id: str,
    options: ReconcileOptions,
    *,
    by: str | None = None,
    source: str | None = None,
) -> ApplyResult:
    """Apply an approved proposal after re-checking it (a stale plan is re-planned and re-scored,
    never applied; an adopt is rolled back if the drift stays); ``by`` and ``source`` are audited."""
    from driftctl.reconcile import approvals

    row = runtime.store.proposal(proposal_id)
    target = next(iter(resolve_workspaces((row.workspace,), runtime)))
    return approvals.apply_proposal(runtime, target, row.id, options, by=by, source=source)
