"""The scheduler lease and schedule windows on a real SQLite store, with an injected clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftctl.audit.store import Store
from driftctl.service.lease import RowLease
from driftctl.service.runs import Runs, open_service_tables
from driftctl.service.schedule import Claimed


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'driftctl.db'}")
    open_service_tables(s)
    return s


def test_one_holder_at_a_time_and_takeover_only_after_expiry(store: Store) -> None:
    clock = Clock()
    a = RowLease(store, ttl=15, holder="a", clock=clock)
    b = RowLease(store, ttl=15, holder="b", clock=clock)
    assert a.acquire()
    assert not b.acquire()
    clock.now += 10
    assert a.acquire()  # renewed: expires 15 s from now
    clock.now += 14.9
    assert not b.acquire()
    clock.now += 0.2  # a stopped renewing (killed): its lease ran out
    assert b.acquire()
    assert not a.acquire()  # a comes back: it is the standby now
    current = b.current()
    assert current is not None and current.holder == "b" and current.acquired_at == clock.now


def test_a_renewal_keeps_the_acquired_time(store: Store) -> None:
    clock = Clock()
    a = RowLease(store, ttl=15, holder="a", clock=clock)
    assert a.acquire()
    first = clock.now
    clock.now += 5
    assert a.acquire()
    current = a.current()
    assert current is not None and current.acquired_at == first and current.expires_at == clock.now + 15


def test_release_hands_over_at_once(store: Store) -> None:
    clock = Clock()
    a = RowLease(store, ttl=15, holder="a", clock=clock)
    b = RowLease(store, ttl=15, holder="b", clock=clock)
    assert a.acquire()
    b.release()  # not b's to release: nothing changes
    assert not b.acquire()
    a.release()
    assert b.acquire()


def test_a_window_runs_once_and_an_unfinished_one_runs_again(store: Store) -> None:
    clock = Clock()
    runs = Runs(store, "a", clock=clock)
    assert runs.last("ws") is None
    assert runs.claim("ws", 100.0, "run1")
    assert not runs.claim("ws", 100.0, "run2")  # a second scheduler, or a restart: no double run
    assert runs.last("ws") == Claimed(100.0, False)
    assert runs.claim("ws", 100.0, "run3", again=True)  # the catch-up of a run that died
    runs.finish("ws", "run1", "clean")  # a stale run's finish does not close the new one
    assert runs.last("ws") == Claimed(100.0, False)
    runs.finish("ws", "run3", "healed")
    assert runs.last("ws") == Claimed(100.0, True)
    assert not runs.claim("ws", 100.0, "run4", again=True)  # finished: never again
    assert not runs.claim("ws", 90.0, "run5")  # an older window
    assert runs.claim("ws", 130.0, "run6")


def test_triggers_are_taken_once_and_record_their_run(store: Store) -> None:
    runs = Runs(store, "a", clock=Clock())
    first, second = runs.request("ws", "alice"), runs.request("other", "bob")
    taken = runs.take()
    assert [t.id for t in taken] == [first, second]
    assert runs.take() == []
    runs.trigger_done([first], "run1", "healed")
    row = runs.trigger(first)
    assert row is not None and row.status == "healed" and row.run_id == "run1"
    pending = runs.trigger(second)
    assert pending is not None and pending.finished_at is None
