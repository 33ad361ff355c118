"""The drift ledger's table, in the same database as the audit store (I/O: the database).

One row per drift episode of one address; closed rows stay as history (first seen, how often, how it
ended) and as the evidence flapping is judged on. Values are the findings' values, masked at parse
time: no secret is ever stored here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Field, SQLModel, col
from sqlmodel import select as sm_select

from driftctl.audit.tables import iso
from driftctl.ledger.model import ItemStatus, LastApply, LedgerItem
from driftctl.models import AttributeChange, ChangeKind, FindingKind, ResourceAddress

if TYPE_CHECKING:
    from driftctl.audit.store import Store


class LedgerRow(SQLModel, table=True):
    """A drift item as stored; ``changes`` and ``resource`` are JSON, times ISO 8601 UTC."""

    __tablename__ = "driftctl_ledger"

    id: str = Field(primary_key=True, max_length=16)
    workspace: str = Field(index=True)
    address: str = Field(index=True)
    status: str = Field(index=True)
    kind: str
    resource: str  # {"type", "name", "module", "index"}
    provider: str = ""
    changes: str = "[]"  # [{"path", "kind", "before", "after", "sensitive"}]
    first_seen: str
    last_seen: str
    times_seen: int = 1
    absorbed_at: str | None = None
    absorbed_by: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    reason: str | None = None
    flapping_since: str | None = None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


def _stamp(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def to_row(item: LedgerItem) -> LedgerRow:
    r = item.resource
    return LedgerRow(
        id=item.id,
        workspace=item.workspace,
        address=item.address,
        status=item.status.value,
        kind=item.kind.value,
        resource=json.dumps({"type": r.type, "name": r.name, "module": r.module, "index": r.index}),
        provider=item.provider,
        changes=json.dumps(
            [
                {
                    "path": c.path,
                    "kind": c.kind.value,
                    "before": c.before,
                    "after": c.after,
                    "sensitive": c.sensitive,
                }
                for c in item.changes
            ],
            default=str,
        ),
        first_seen=iso(item.first_seen),
        last_seen=iso(item.last_seen),
        times_seen=item.times_seen,
        absorbed_at=_stamp(item.absorbed_at),
        absorbed_by=item.absorbed_by,
        closed_at=_stamp(item.closed_at),
        closed_by=item.closed_by,
        reason=item.reason,
        flapping_since=_stamp(item.flapping_since),
    )


def from_row(row: LedgerRow) -> LedgerItem:
    r: dict[str, Any] = json.loads(row.resource)
    changes = tuple(
        AttributeChange(
            c["path"], ChangeKind(c["kind"]), c.get("before"), c.get("after"), bool(c.get("sensitive"))
        )
        for c in json.loads(row.changes)
    )
    first_seen, last_seen = _time(row.first_seen), _time(row.last_seen)
    assert first_seen is not None and last_seen is not None
    return LedgerItem(
        id=row.id,
        workspace=row.workspace,
        resource=ResourceAddress(
            row.address, r.get("type", ""), r.get("name", ""), r.get("module"), r.get("index")
        ),
        kind=FindingKind(row.kind),
        changes=changes,
        first_seen=first_seen,
        last_seen=last_seen,
        times_seen=row.times_seen,
        provider=row.provider,
        status=ItemStatus(row.status),
        absorbed_at=_time(row.absorbed_at),
        absorbed_by=row.absorbed_by,
        closed_at=_time(row.closed_at),
        closed_by=row.closed_by,
        reason=row.reason,
        flapping_since=_time(row.flapping_since),
    )


class LedgerStore:
    """Ledger items in the driftctl database (the table is created on first use)."""

    store: Store

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready = False

    def _table(self) -> Store:
        # On first use, not on construction: a read-only command that never looks at the ledger
        # writes nothing to the database.
        if not self._ready:
            self.store.create_tables(LedgerRow)
            self._ready = True
        return self.store

    def open_items(self, workspace: str) -> list[LedgerItem]:
        """Open items of ``workspace``, by address."""
        stmt = sm_select(LedgerRow).where(
            col(LedgerRow.workspace) == workspace, col(LedgerRow.status) == ItemStatus.OPEN.value
        )
        with self._table().reading("read the drift ledger") as s:
            return [from_row(r) for r in s.exec(stmt.order_by(col(LedgerRow.address)))]

    def history(self, workspace: str, address: str | None = None) -> list[LedgerItem]:
        """Every item of ``workspace`` (of ``address`` only, if given), oldest first."""
        stmt = sm_select(LedgerRow).where(col(LedgerRow.workspace) == workspace)
        if address is not None:
            stmt = stmt.where(col(LedgerRow.address) == address)
        with self._table().reading("read the drift ledger") as s:
            rows = s.exec(stmt.order_by(col(LedgerRow.first_seen), col(LedgerRow.id)))
            return [from_row(r) for r in rows]

    def healed_since(self, workspace: str, addresses: Iterable[str], since: datetime) -> list[LedgerItem]:
        """Items of ``addresses`` healed at or after ``since``."""
        wanted = sorted(set(addresses))
        if not wanted:
            return []
        stmt = sm_select(LedgerRow).where(
            col(LedgerRow.workspace) == workspace,
            col(LedgerRow.address).in_(wanted),
            col(LedgerRow.status) == ItemStatus.HEALED.value,
            col(LedgerRow.closed_at) >= iso(since),
        )
        with self._table().reading("read the drift ledger") as s:
            return [from_row(r) for r in s.exec(stmt)]

    def save(self, items: Sequence[LedgerItem]) -> None:
        """Insert or replace ``items`` in one transaction."""
        if not items:
            return
        with self._table().writing("write the drift ledger") as s:
            for item in items:
                s.merge(to_row(item))

    def last_apply(self, workspace: str) -> LastApply | None:
        """The newest apply driftctl finished in ``workspace`` (from the audit trail)."""
        found = self.store.entries(
            kind="action", workspace=workspace, status="finished", limit=1, newest_first=True
        )
        if not found:
            return None
        return LastApply(datetime.fromisoformat(found[0].ts).astimezone(UTC), found[0].run_id)
