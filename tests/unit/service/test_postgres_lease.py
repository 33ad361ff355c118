"""The scheduler lease and the service tables on a real PostgreSQL (tests/pgcluster.py): an advisory
lock, released by the server the moment its holder dies, even by SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from driftctl.audit.store import Store
from driftctl.service.lease import AdvisoryLease, lease_for
from driftctl.service.runs import Runs, open_service_tables

pytestmark = pytest.mark.slow

_HOLDER = """
import sys, time
from driftctl.audit.store import Store
from driftctl.service.lease import AdvisoryLease
lease = AdvisoryLease(Store(sys.argv[1]))
print("held" if lease.acquire() else "refused", flush=True)
time.sleep(600)
"""


def test_one_holder_until_it_releases(postgres_url: str) -> None:
    with Store(postgres_url) as store:
        a, b = lease_for(store, 15), lease_for(store, 15)
        assert isinstance(a, AdvisoryLease)
        assert a.acquire() and a.acquire()  # renewing is a no-op check of its own session
        assert not b.acquire()
        a.release()
        assert b.acquire()
        assert not a.acquire()
        b.release()


def test_a_killed_holder_loses_the_lease_at_once(postgres_url: str) -> None:
    with Store(postgres_url) as store:
        proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, postgres_url], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
            standby = AdvisoryLease(store)
            assert not standby.acquire()
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            deadline = time.monotonic() + 30
            while not standby.acquire():  # the server notices the dropped connection
                assert time.monotonic() < deadline, "the advisory lock outlived its killed holder"
                time.sleep(0.1)
            standby.release()
        finally:
            proc.kill()
            proc.wait()


def test_windows_and_triggers_on_postgres(postgres_url: str) -> None:
    with Store(postgres_url) as store:
        open_service_tables(store)
        open_service_tables(store)  # idempotent
        runs = Runs(store, "a")
        assert runs.claim("ws", 100.0, "r1") and not runs.claim("ws", 100.0, "r2")
        first = runs.request("ws", "alice")
        assert [t.id for t in runs.take()] == [first] and runs.take() == []
