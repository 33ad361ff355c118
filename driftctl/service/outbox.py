"""The notification outbox: events are stored with the run, then delivered with retries (I/O: database, HTTP).

Enqueueing is a database write in the reconcile's thread; delivery happens on the dispatcher's own
threads, one per sink, so a down or hanging endpoint delays nothing but its own queue and loses
nothing (rows wait, with exponential backoff, up to ``attempts`` tries, then are kept as ``dead``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable

import httpx
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from driftctl.audit.store import Store, StoreError
from driftctl.service.events import Event
from driftctl.service.notify import Target, deliver, event_json
from driftctl.service.settings import Delivery
from driftctl.service.tables import OutboxRow

Clock = Callable[[], float]
log = logging.getLogger("driftctl.service.outbox")


def backoff(attempts: int, settings: Delivery) -> float:
    """Seconds before the next try after ``attempts`` failed ones."""
    return float(min(settings.backoff * 2 ** max(attempts - 1, 0), settings.backoff_max))


class Outbox:
    def __init__(self, store: Store, settings: Delivery, *, clock: Clock = time.time) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock

    def enqueue(self, events: Iterable[Event], targets: Iterable[Target]) -> int:
        """One row per event per sink that wants it; an event already queued for a sink is skipped."""
        added = 0
        now = self.clock()
        for event in events:
            payload = json.dumps(event_json(event), sort_keys=True)
            for target in targets:
                if event.kind not in target.sink.events:
                    continue
                row = OutboxRow(
                    sink=target.sink.name,
                    dedupe=event.key,
                    event=event.kind,
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now,
                )
                try:
                    with self.store.writing("queue a notification") as s:
                        s.add(row)
                    added += 1
                except StoreError as exc:
                    if not isinstance(exc.__cause__, IntegrityError):
                        raise
        return added

    def due(self, sink: str, limit: int = 20) -> list[OutboxRow]:
        with self.store.reading("read the outbox") as s:
            query = (
                select(OutboxRow)
                .where(
                    OutboxRow.sink == sink,
                    col(OutboxRow.delivered_at).is_(None),
                    col(OutboxRow.dead).is_(False),
                )
                .where(OutboxRow.next_attempt_at <= self.clock())
                .order_by(col(OutboxRow.id))
                .limit(limit)
            )
            return list(s.exec(query))

    def mark(self, row_id: int, ok: bool, error: str | None) -> OutboxRow | None:
        with self.store.writing("record a delivery") as s:
            row = s.get(OutboxRow, row_id)
            if row is None:
                return None
            row.attempts += 1
            now = self.clock()
            if ok:
                row.delivered_at, row.last_error = now, None
            else:
                row.last_error = error
                row.dead = row.attempts >= self.settings.attempts
                row.next_attempt_at = now + backoff(row.attempts, self.settings)
            s.add(row)
            return row

    def rows(self) -> list[OutboxRow]:
        with self.store.reading("read the outbox") as s:
            return list(s.exec(select(OutboxRow).order_by(col(OutboxRow.id))))


class Dispatcher:
    """Delivers due rows: ``tick()`` hands each sink with work to its own thread (never waits)."""

    def __init__(
        self,
        outbox: Outbox,
        targets: list[Target],
        *,
        on_result: Callable[[str, str, bool], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.targets = {t.sink.name: t for t in targets}
        self.on_result = on_result
        # Daemon threads, one pass per sink at a time: a hanging endpoint holds only its own thread and
        # never keeps the process from exiting (its row stays undelivered and is retried later).
        self._busy: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._client = httpx.Client(timeout=outbox.settings.timeout, follow_redirects=False)

    def tick(self) -> None:
        with self._lock:
            for name in self.targets:
                if not self.in_flight(name):
                    thread = threading.Thread(
                        target=self._drain, args=(name,), name=f"notify-{name}", daemon=True
                    )
                    self._busy[name] = thread
                    thread.start()

    def _drain(self, name: str) -> None:
        target = self.targets[name]
        try:
            for row in self.outbox.due(name):
                assert row.id is not None
                sent = deliver(target, row.payload, self._client, now=self.outbox.clock())
                marked = self.outbox.mark(row.id, sent.ok, sent.error)
                if self.on_result is not None:
                    self.on_result(name, row.event, sent.ok)
                if not sent.ok:
                    dead = marked is not None and marked.dead
                    log.warning(
                        "notification %s to sink %s failed (%s)%s",
                        row.id,
                        name,
                        sent.error,
                        ": giving up" if dead else "; will retry",
                        extra={"step": "notify"},
                    )
        except Exception:  # a delivery thread never dies silently, nor takes the service down
            log.exception("notification delivery to sink %s failed", name, extra={"step": "notify"})

    def in_flight(self, sink: str) -> bool:
        """Whether a delivery pass for ``sink`` is still running."""
        running = self._busy.get(sink)
        return running is not None and running.is_alive()

    def flush(self, timeout: float) -> None:
        """Wait for the delivery passes started so far (for a clean stop, and tests)."""
        for thread in list(self._busy.values()):
            thread.join(timeout)

    def close(self) -> None:
        """Start no more passes; one still running finishes or times out on its own daemon thread."""
        self.targets = {}
