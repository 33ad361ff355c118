"""The database tables of the audit store: audit rows and their head, proposals, breakers, locks (no I/O).

These are the stored shapes; code outside ``driftctl.audit`` reads audit rows as ``Entry`` values.
Times are ISO 8601 UTC strings with microseconds (they sort as text), lock expiry is epoch seconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

AUDIT_KINDS = ("run", "finding", "proposal", "assessment", "decision", "action", "approval", "alert", "llm")
OPEN_PROPOSAL_STATUSES = ("pending", "approved", "needs_human", "blocked")


def utc_now() -> str:
    """Now as ISO 8601 UTC with microseconds, e.g. ``2025-01-31T12:00:00.000001+00:00``."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """``moment`` in the stored time format (a naive datetime is taken to be UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class AuditRow(SQLModel, table=True):
    """One append-only audit entry; ``hash`` covers every other column (see ``chain``)."""

    __tablename__ = "driftctl_audit"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    ts: str
    run_id: str = Field(index=True)
    workspace: str | None = Field(default=None, index=True)
    kind: str = Field(index=True)
    subject: str | None = None
    status: str
    data: str
    prev_hash: str
    hash: str
    key_id: str | None = None  # the audit key that signed ``hash`` (None: an unkeyed row from before keys)


class AuditHead(SQLModel, table=True):
    """The single row (id 1) naming the last seq and its hash, so deleting rows from the end shows."""

    __tablename__ = "driftctl_audit_head"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int
    hash: str
    key_id: str | None = None
    mac: str | None = None  # HMAC of (seq, hash) under ``key_id``: moving the head by hand shows


class ProposalRow(SQLModel, table=True):
    """A proposed fix for one drifted resource and where it is in its life (pending → applied …)."""

    __tablename__ = "driftctl_proposal"

    id: str = Field(primary_key=True, max_length=12)
    run_id: str = Field(index=True)
    workspace: str = Field(index=True)
    address: str = Field(index=True)
    strategy: str  # revert | adopt
    status: str = Field(default="pending", index=True)
    decision: str = ""
    risk: float | None = None
    confidence: float | None = None
    rationale: str = ""
    summary: str = ""
    data: str = "{}"
    plan_path: str | None = None
    plan_sha256: str | None = None
    fingerprint: str | None = None
    branch: str | None = None
    patch_path: str | None = None
    reason: str | None = None
    created_at: str = Field(default_factory=utc_now)
    updated_at: str = Field(default_factory=utc_now)
    approved_by: str | None = None


class BreakerRow(SQLModel, table=True):
    """A workspace's circuit breaker: consecutive failed heals, and whether automatic heals are stopped."""

    __tablename__ = "driftctl_breaker"

    workspace: str = Field(primary_key=True)
    failures: int = 0
    open: bool = False
    opened_at: str | None = None
    reason: str | None = None
    updated_at: str = Field(default_factory=utc_now)


class LockRow(SQLModel, table=True):
    """Who holds a workspace, since and until when (epoch seconds); an expired lock can be taken over."""

    __tablename__ = "driftctl_lock"

    workspace: str = Field(primary_key=True)
    holder: str
    acquired_at: float = Field(default_factory=time.time)
    expires_at: float
