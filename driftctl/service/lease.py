"""One active scheduler per store: a lease in the database (I/O: the database).

SQLite (one host): a lock row with an expiry, renewed every ``ttl/3``; a standby takes it over once it
has expired, so a holder killed by ``kill -9`` is replaced within ``ttl + ttl/3`` seconds. Taking,
renewing and taking over are one conditional ``UPDATE`` (atomic on every database). Postgres (a shared
store): a session-level advisory lock on a dedicated connection; the server releases it the moment that
connection dies, so takeover is as fast as the standby's next try.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from driftctl.audit.store import Store, StoreError
from driftctl.service.tables import LeaseRow

Clock = Callable[[], float]
LEASE_NAME = "scheduler"


def holder_id() -> str:
    """``host:pid:random``: unique per process, readable in the table."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease(Protocol):
    """Try to become (or stay) the active scheduler; give it up."""

    holder: str

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class RowLease:
    """The lock-row lease: ``acquire`` takes, renews or takes over an expired lease; False if held."""

    def __init__(self, store: Store, ttl: float, *, holder: str | None = None, clock: Clock = time.time):
        self.store = store
        self.ttl = ttl
        self.holder = holder or holder_id()
        self.clock = clock

    def acquire(self) -> bool:
        now = self.clock()
        table = LeaseRow.__table__  # type: ignore[attr-defined]
        try:
            with self.store.writing("take the scheduler lease") as s:
                taken = s.execute(
                    update(table)
                    .where(table.c.name == LEASE_NAME)
                    .where((table.c.holder == self.holder) | (table.c.expires_at <= now))
                    .values(
                        holder=self.holder,
                        expires_at=now + self.ttl,
                        # a takeover restarts acquired_at; a renewal keeps it
                        acquired_at=_case_keep(table, self.holder, now),
                    )
                )
                if getattr(taken, "rowcount", 0) == 1:
                    return True
                if s.get(LeaseRow, LEASE_NAME) is not None:
                    return False
                s.add(
                    LeaseRow(name=LEASE_NAME, holder=self.holder, acquired_at=now, expires_at=now + self.ttl)
                )
            return True
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):  # another process inserted the row first
                return False
            raise

    def release(self) -> None:
        """Expire the lease now if it is ours, so a standby takes over at its next try."""
        table = LeaseRow.__table__  # type: ignore[attr-defined]
        with self.store.writing("release the scheduler lease") as s:
            s.execute(
                update(table)
                .where(table.c.name == LEASE_NAME, table.c.holder == self.holder)
                .values(expires_at=0.0)
            )

    def current(self) -> LeaseRow | None:
        with self.store.reading("read the scheduler lease") as s:
            return s.get(LeaseRow, LEASE_NAME)


def _case_keep(table: Any, holder: str, now: float) -> Any:
    from sqlalchemy import case

    return case((table.c.holder == holder, table.c.acquired_at), else_=now)


class AdvisoryLease:
    """Postgres: ``pg_try_advisory_lock`` held on its own connection for as long as we are active."""

    def __init__(self, store: Store, *, holder: str | None = None) -> None:
        from sqlalchemy import create_engine

        self.holder = holder or holder_id()
        self._engine = create_engine(store.url, pool_size=1, max_overflow=0, pool_pre_ping=True)
        self._conn: Any = None
        digest = hashlib.sha256(b"driftctl:" + LEASE_NAME.encode()).digest()
        self._key = int.from_bytes(digest[:8], "big", signed=True)

    def acquire(self) -> bool:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))  # still ours while the session lives
                return True
            conn = self._engine.connect()
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        except SQLAlchemyError:
            self._drop()
            return False

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # closing the session releases the advisory lock
            finally:
                self._conn = None
        self._engine.dispose()


def lease_for(store: Store, ttl: float, *, clock: Clock = time.time) -> Lease:
    """The advisory lock on Postgres, the lock row anywhere else."""
    if store.url.startswith(("postgresql", "postgres")):
        return AdvisoryLease(store)
    return RowLease(store, ttl, clock=clock)
