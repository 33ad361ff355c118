"""A resource's failed heals, read from the trail, lower the next fix's confidence (issue 16 item 6)."""

from __future__ import annotations

from pathlib import Path

from driftctl.audit.history import heal_history
from driftctl.audit.store import Store

from .conftest import tamper


def _failed(store: Store, address: str, workspace: str = "prod") -> int:
    return store.append(
        "action", run_id="r", status="heal_failed", data={}, workspace=workspace, subject=address
    ).seq


def test_counts_recent_failed_heals_of_that_resource_only(store: Store, db_path: Path) -> None:
    assert heal_history(store, "prod", "a.b").failed_heals == 0
    _failed(store, "a.b")
    old = _failed(store, "a.b")
    _failed(store, "a.c")
    _failed(store, "a.b", workspace="staging")
    store.append("action", run_id="r", status="confirmed", data={}, workspace="prod", subject="a.b")
    assert heal_history(store, "prod", "a.b").failed_heals == 2
    tamper(db_path, "UPDATE driftctl_audit SET ts = '2000-01-01T00:00:00.000000+00:00' WHERE seq = ?", old)
    assert heal_history(store, "prod", "a.b").failed_heals == 1  # only the last 30 days count
