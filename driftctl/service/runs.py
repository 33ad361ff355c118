"""Schedule windows claimed per workspace, and `driftctl trigger` requests (I/O: the database)."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlmodel import col, select

from driftctl.audit.store import Store
from driftctl.service.events import AddressState
from driftctl.service.schedule import Claimed
from driftctl.service.tables import SERVICE_TABLES, FindingStateRow, TriggerRow, WindowRow

Clock = Callable[[], float]


def open_service_tables(store: Store) -> None:
    """Create the service's tables beside the audit trail if they are missing."""
    store.create_tables(*SERVICE_TABLES)


class Runs:
    """Claims schedule windows so each runs once, and hands out triggers to the active scheduler."""

    def __init__(self, store: Store, holder: str, *, clock: Clock = time.time) -> None:
        self.store = store
        self.holder = holder
        self.clock = clock

    def last(self, workspace: str) -> Claimed | None:
        with self.store.reading("read schedule windows") as s:
            row = s.get(WindowRow, workspace)
        return None if row is None else Claimed(row.window, row.finished_at is not None)

    def claim(self, workspace: str, window: float, run_id: str, *, again: bool = False) -> bool:
        """Claim ``window`` for a run; False if it is already claimed (a double run). ``again``: also
        re-claim a window whose run never finished (the catch-up rule)."""
        with self.store.writing(f"claim a schedule window of {workspace}") as s:
            row = s.get(WindowRow, workspace)
            if row is not None and row.window >= window and not (again and row.finished_at is None):
                return False
            if row is None:
                row = WindowRow(
                    workspace=workspace, window=window, run_id=run_id, holder=self.holder, started_at=0.0
                )
            row.window, row.run_id, row.holder = max(window, row.window), run_id, self.holder
            row.started_at, row.finished_at, row.status = self.clock(), None, None
            s.add(row)
        return True

    def finish(self, workspace: str, run_id: str, status: str) -> None:
        with self.store.writing(f"record the run of {workspace}") as s:
            row = s.get(WindowRow, workspace)
            if row is not None and row.run_id == run_id:
                row.finished_at, row.status = self.clock(), status
                s.add(row)

    # -- triggers ----------------------------------------------------------------------------------

    def request(self, workspace: str, requested_by: str) -> int:
        """Queue a reconcile-now request; its id."""
        with self.store.writing(f"queue a trigger for {workspace}") as s:
            row = TriggerRow(workspace=workspace, requested_by=requested_by, requested_at=self.clock())
            s.add(row)
            s.flush()
            assert row.id is not None
            return row.id

    def take(self) -> list[TriggerRow]:
        """The waiting triggers, marked taken (one per workspace: repeats are coalesced into one run)."""
        waiting = select(TriggerRow).where(col(TriggerRow.taken_at).is_(None)).order_by(col(TriggerRow.id))
        with self.store.reading("look for triggers") as s:  # every poll: no write lock unless needed
            if s.exec(waiting.limit(1)).first() is None:
                return []
        with self.store.writing("take triggers") as s:
            rows = list(s.exec(waiting))
            now = self.clock()
            for row in rows:
                row.taken_at = now
                s.add(row)
        return rows

    def trigger_done(self, ids: list[int], run_id: str, status: str) -> None:
        with self.store.writing("record triggered runs") as s:
            for trigger_id in ids:
                row = s.get(TriggerRow, trigger_id)
                if row is not None:
                    row.run_id, row.finished_at, row.status = run_id, self.clock(), status
                    s.add(row)

    def trigger(self, trigger_id: int) -> TriggerRow | None:
        with self.store.reading("read a trigger") as s:
            return s.get(TriggerRow, trigger_id)

    # -- notified states ---------------------------------------------------------------------------

    def states(self, workspace: str) -> dict[str, AddressState]:
        with self.store.reading("read notified states") as s:
            rows = s.exec(select(FindingStateRow).where(FindingStateRow.workspace == workspace))
            return {
                r.address: AddressState(
                    r.state,
                    r.first_seen,
                    r.changed_at,
                    tuple(float(t) for t in r.heals.split()),
                    r.flapping,
                )
                for r in rows
            }

    def save_states(self, workspace: str, states: dict[str, AddressState]) -> None:
        with self.store.writing("record notified states") as s:
            for address, st in states.items():
                row = s.get(FindingStateRow, (workspace, address)) or FindingStateRow(
                    workspace=workspace,
                    address=address,
                    state=st.state,
                    first_seen=st.first_seen,
                    changed_at=0,
                )
                row.state, row.first_seen, row.changed_at = st.state, st.first_seen, st.changed_at
                row.heals, row.flapping = " ".join(f"{t:.3f}" for t in st.heals), st.flapping
                s.add(row)
