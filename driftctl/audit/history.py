"""A resource's history from the audit trail, as evidence for confidence (I/O: the store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from driftctl.audit.tables import iso

if TYPE_CHECKING:
    from driftctl.audit.store import Store

HISTORY_DAYS = 30


@dataclass(frozen=True, slots=True)
class HealHistory:
    """What the trail says about healing one resource lately (``score``'s ``HistoryLike``)."""

    failed_heals: int = 0


def heal_history(store: Store, workspace: str, address: str, *, days: int = HISTORY_DAYS) -> HealHistory:
    """Failed heals of ``address`` in ``workspace`` over the last ``days`` (confirmed still drifting)."""
    since = iso(datetime.now(UTC) - timedelta(days=days))
    failed = store.entries(kind="action", workspace=workspace, subject=address, status="heal_failed")
    return HealHistory(failed_heals=sum(1 for e in failed if e.ts > since))
