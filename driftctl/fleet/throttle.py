"""Fleet-wide and per-account concurrency caps as Postgres advisory locks (I/O: one connection per job).

A job takes one of N numbered slots (``pg_try_advisory_lock(class, slot)``) on a connection it keeps for
the whole reconcile. Session advisory locks die with their connection, so a worker killed by SIGKILL
or cut off from the database gives its slots back at once: no expiry to wait out, no table to clean.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

FLEET_CLASS = 0x0D1F7  # the advisory-lock class id of the fleet-wide slots


class NoSlot(Exception):
    """Every slot of a cap is taken: the job is retried later."""


def account_class(account: str) -> int:
    """The advisory-lock class id of one cloud account's slots (a stable 31-bit hash, never FLEET_CLASS)."""
    value = zlib.crc32(f"driftctl-account:{account}".encode()) & 0x7FFFFFFF
    return value if value != FLEET_CLASS else value + 1


def _take(conn: psycopg.Connection[tuple[object, ...]], cls: int, slots: int, what: str) -> int:
    for slot in range(slots):
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (cls, slot)).fetchone()
        if row is not None and row[0]:
            return slot
    raise NoSlot(f"all {slots} {what} slots are taken")


@contextmanager
def slots(conninfo: str, *, fleet_cap: int | None, account: str, account_cap: int | None) -> Iterator[None]:
    """Hold a fleet slot and an account slot (each only when capped) for the block; NoSlot if full."""
    if fleet_cap is None and account_cap is None:
        yield
        return
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        if fleet_cap is not None:
            _take(conn, FLEET_CLASS, fleet_cap, "fleet")
        if account_cap is not None:
            _take(conn, account_class(account), account_cap, f"account {account}")
        yield
        # closing the connection releases every advisory lock it holds
