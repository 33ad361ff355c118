"""Replayed webhook deliveries and per-(repo, workspace) locks, in the driftctl database (I/O: SQL).

A delivery id is recorded once (a primary key), so a replay — GitHub's "redeliver", an attacker
re-sending a captured request — is recognised even by another replica sharing the database. Locks
use the store's lock rows under a ``forge:<repo>:<workspace>`` key with an expiry. Both fail closed:
a database that cannot be reached raises `GuardUnavailable`, and nothing runs.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from driftctl.errors import DriftctlError

if TYPE_CHECKING:
    from driftctl.audit.store import Store

LOCK_TTL_S = 2 * 3600.0  # a command that died holding a lock frees it after this long (or `unlock`)

_metadata = MetaData()
_deliveries = Table(
    "driftctl_forge_delivery",
    _metadata,
    Column("id", String(200), primary_key=True),
    Column("received_at", Float, nullable=False),
)


class GuardUnavailable(DriftctlError):
    """The database that records deliveries and holds locks cannot be reached: refuse to act."""


class DeliveryLog:
    """Delivery ids seen, in the same database as the audit trail (``url`` is a SQLAlchemy URL)."""

    def __init__(self, url: str) -> None:
        try:
            self._engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
            _metadata.create_all(self._engine)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise GuardUnavailable(f"the delivery log cannot be opened: {type(exc).__name__}") from None

    def first_time(self, delivery_id: str) -> bool:
        """Record ``delivery_id``; False if it was recorded before (a replay)."""
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(_deliveries).values(id=delivery_id[:200], received_at=time.time()))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise GuardUnavailable(f"the delivery log cannot be written: {type(exc).__name__}") from None
        return True

    def close(self) -> None:
        self._engine.dispose()


def lock_key(repo: str, workspace: str) -> str:
    return f"forge:{repo}:{workspace}"


class RepoLocks:
    """One comment command at a time per (repository, workspace), across every replica."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def acquire(self, repo: str, workspace: str, holder: str) -> bool:
        try:
            return self.store.try_lock(lock_key(repo, workspace), holder, LOCK_TTL_S)
        except (DriftctlError, SQLAlchemyError) as exc:
            raise GuardUnavailable(f"the lock store cannot be reached: {type(exc).__name__}") from None

    def release(self, repo: str, workspace: str, holder: str) -> None:
        # On failure it expires after LOCK_TTL_S; `driftctl unlock` frees it sooner.
        with contextlib.suppress(DriftctlError, SQLAlchemyError):
            self.store.unlock(lock_key(repo, workspace), holder)

    def holder(self, repo: str, workspace: str) -> str | None:
        try:
            row = self.store.lock_holder(lock_key(repo, workspace))
        except (DriftctlError, SQLAlchemyError) as exc:
            raise GuardUnavailable(f"the lock store cannot be reached: {type(exc).__name__}") from None
        return None if row is None or row.expires_at < time.time() else row.holder

    def force_release(self, repo: str, workspace: str) -> str | None:
        """Free the lock whoever holds it; who held it (None: nobody did, which is not an error)."""
        held = self.holder(repo, workspace)
        if held is not None:
            try:
                self.store.unlock(lock_key(repo, workspace), held)
            except (DriftctlError, SQLAlchemyError) as exc:
                raise GuardUnavailable(f"the lock store cannot be reached: {type(exc).__name__}") from None
        return held
