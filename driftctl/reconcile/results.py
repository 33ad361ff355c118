"""What a reconcile made of each finding and workspace, and the run's exit code (frozen data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from driftctl.errors import EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR, EXIT_HEALED, EXIT_SKIPPED

if TYPE_CHECKING:
    from driftctl.models import LedgerNote


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
    ledger: LedgerNote | None = None  # drift the ledger carries (absorbed into state), flapping


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
