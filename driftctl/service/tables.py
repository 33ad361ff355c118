"""The service's tables, in the same database as the audit trail: lease, windows, triggers, outbox (no I/O).

Times are epoch seconds (floats): the lease compares them, the outbox sorts by them.
"""

from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class LeaseRow(SQLModel, table=True):
    """Who runs the scheduler for this store, until when. An expired lease may be taken over."""

    __tablename__ = "driftctl_service_lease"

    name: str = Field(primary_key=True)
    holder: str
    acquired_at: float
    expires_at: float


class WindowRow(SQLModel, table=True):
    """A workspace's last claimed schedule window (its fire time) and how that run ended."""

    __tablename__ = "driftctl_service_window"

    workspace: str = Field(primary_key=True)
    window: float  # the schedule's fire time this run belongs to
    run_id: str
    holder: str
    started_at: float
    finished_at: float | None = None
    status: str | None = None  # the workspace result's status; "cut_short" when stopped mid-run


class TriggerRow(SQLModel, table=True):
    """`driftctl trigger WS`: a request to reconcile now, taken by the active scheduler."""

    __tablename__ = "driftctl_service_trigger"

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(index=True)
    requested_by: str
    requested_at: float
    taken_at: float | None = Field(default=None, index=True)
    run_id: str | None = None
    finished_at: float | None = None
    status: str | None = None


class FindingStateRow(SQLModel, table=True):
    """The last notified state of one drifted address: what makes notifications state changes only."""

    __tablename__ = "driftctl_service_finding"

    workspace: str = Field(primary_key=True)
    address: str = Field(primary_key=True)
    state: str  # drift | needs_human | heal_failed | healed
    first_seen: float
    changed_at: float
    heals: str = ""  # epoch seconds of recent heals, space-separated (flapping)
    flapping: bool = False


class OutboxRow(SQLModel, table=True):
    """One notification for one sink, delivered with retries; ``dedupe`` keeps an event from repeating."""

    __tablename__ = "driftctl_service_outbox"
    __table_args__ = (UniqueConstraint("sink", "dedupe"),)

    id: int | None = Field(default=None, primary_key=True)
    sink: str
    dedupe: str
    event: str
    payload: str  # the versioned JSON body, exactly as sent (signed per attempt)
    created_at: float
    next_attempt_at: float = Field(index=True)
    attempts: int = 0
    delivered_at: float | None = None
    dead: bool = False
    last_error: str | None = None  # a status code or an exception class: never the URL


SERVICE_TABLES: tuple[type[SQLModel], ...] = (LeaseRow, WindowRow, TriggerRow, FindingStateRow, OutboxRow)
