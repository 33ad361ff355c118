"""Audit-store fixtures: a real SQLite file per test, and raw sqlite3 access to tamper with it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftctl.audit.store import Store


@pytest.fixture(autouse=True)
def _no_database_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DRIFTCTL_DATABASE_URL", raising=False)
    # A non-SQLite store with no configured key keeps its key under $XDG_DATA_HOME: never the real one.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "driftctl.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{db_path}") as s:
        yield s


def tamper(db_path: Path, sql: str, *params: Any) -> None:
    """Change the database behind the store's back, as someone with file access could."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def fill(store: Store, n: int, *, workspace: str = "prod") -> None:
    for i in range(n):
        store.append(
            "finding",
            run_id="run-1",
            workspace=workspace,
            subject=f"aws_s3_bucket.b{i}",
            status="pending",
            data={"message": f"drift {i}", "n": i},
        )
