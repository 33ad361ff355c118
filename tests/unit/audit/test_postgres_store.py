"""The audit store on a real PostgreSQL: the same chain, locks and proposals as on SQLite.

The cluster is started by tests/pgcluster.py (initdb + pg_ctl in a temporary directory, loopback only).
Appends from several processes at once must still form one unbroken chain: Postgres serialises them with
``SELECT … FOR UPDATE`` on the head row, where SQLite uses ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from driftctl.audit.store import Store

pytestmark = pytest.mark.slow

_APPENDER = """
import sys
from driftctl.audit.store import Store
with Store(sys.argv[1]) as store:
    for i in range(int(sys.argv[3])):
        store.append("finding", run_id=sys.argv[2], workspace="prod", subject=f"r{i}", status="pending",
                     data={"i": i})
"""


def test_chain_appends_and_verifies_on_postgres(postgres_url: str) -> None:
    with Store(postgres_url) as store:
        for i in range(5):
            store.append(
                "finding", run_id="run-1", workspace="prod", subject=f"r{i}", status="pending", data={}
            )
        report = store.verify()
        assert report.ok, report
        assert [e.subject for e in store.entries(limit=10)][-1] in {"r0", "r4"}
        assert store.display_url.startswith("postgresql")


def test_concurrent_appends_from_processes_form_one_chain(postgres_url: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _APPENDER, postgres_url, f"run-{n}", "15"]) for n in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    with Store(postgres_url) as store:
        report = store.verify()
        assert report.ok, report
        assert len(store.entries(limit=1000)) == 60


def test_workspace_lock_is_exclusive_on_postgres(postgres_url: str) -> None:
    with Store(postgres_url) as a, Store(postgres_url) as b:
        assert a.try_lock("prod", "host-a", ttl_s=60)
        assert not b.try_lock("prod", "host-b", ttl_s=60)
        holder = b.lock_holder("prod")
        assert holder is not None and holder.holder == "host-a"
        assert a.unlock("prod", "host-a")
        assert b.try_lock("prod", "host-b", ttl_s=60)
