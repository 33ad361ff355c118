"""The store's contract on both backends: SQLite (one host) and a real PostgreSQL (a fleet) (I/O: databases,
processes).

Every test here runs twice, once per backend, through the ``url`` fixture: the hash chain and its
tamper detection, appends racing from several processes, the workspace lock (exclusive, taken over only
once expired, renewed while held), proposals and the breaker.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from driftctl.audit.store import Store
from driftctl.reconcile.locks import DatabaseWorkspaceLock

pytestmark = pytest.mark.slow

_APPENDER = """
import sys
from driftctl.audit.store import Store
with Store(sys.argv[1]) as store:
    for i in range(int(sys.argv[3])):
        store.append("finding", run_id=sys.argv[2], workspace="prod", subject=f"r{i}", status="pending",
                     data={"i": i})
"""

_LOCKER = """
import sys
from driftctl.audit.store import Store
with Store(sys.argv[1]) as store:
    print("won" if store.try_lock("prod", sys.argv[2], ttl_s=60) else "lost", flush=True)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'driftctl.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _append(store: Store, n: int, run: str = "run-1") -> None:
    for i in range(n):
        store.append(
            "finding", run_id=run, workspace="prod", subject=f"r{i}", status="pending", data={"i": i}
        )


def test_the_chain_verifies_and_an_edit_is_found(url: str) -> None:
    with Store(url) as store:
        _append(store, 6)
        assert store.verify().ok
        engine = sa.create_engine(url)  # someone with database access, behind the store's back
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE driftctl_audit SET status = 'healed' WHERE subject = 'r3'"))
        finally:
            engine.dispose()
        report = store.verify()
        assert not report.ok


def test_appends_racing_from_processes_form_one_chain(url: str) -> None:
    with Store(url) as store:  # create the tables once, so the race is on the appends
        _append(store, 1, "run-0")
    procs = [subprocess.Popen([sys.executable, "-c", _APPENDER, url, f"run-{n}", "10"]) for n in range(1, 5)]
    assert [p.wait(timeout=180) for p in procs] == [0, 0, 0, 0]
    with Store(url) as store:
        report = store.verify()
        assert report.ok, report
        entries = store.entries(limit=1000)
        assert len(entries) == 41
        assert sorted(e.seq for e in entries) == list(range(1, 42))


def test_racing_processes_take_the_lock_exactly_once(url: str) -> None:
    with Store(url) as store:
        store.try_lock("warmup", "me", ttl_s=1)
    procs = [
        subprocess.Popen([sys.executable, "-c", _LOCKER, url, f"host-{n}"], stdout=subprocess.PIPE, text=True)
        for n in range(5)
    ]
    results = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert sorted(results) == ["lost"] * 4 + ["won"]


def test_the_lock_is_exclusive_until_it_expires(url: str) -> None:
    with Store(url) as a, Store(url) as b:
        assert a.try_lock("prod", "host-a", ttl_s=60)
        assert a.try_lock("prod", "host-a", ttl_s=60)  # the holder refreshes it
        assert not b.try_lock("prod", "host-b", ttl_s=60)
        assert b.try_lock("staging", "host-b", ttl_s=60)  # per workspace
        assert a.unlock("prod", "host-a") and not a.unlock("prod", "host-a")
        assert b.try_lock("prod", "host-b", ttl_s=-1)  # already expired when written
        assert a.try_lock("prod", "host-a", ttl_s=60)  # so it is taken over
        holder = b.lock_holder("prod")
        assert holder is not None and holder.holder == "host-a"


def _wait_for(predicate: object, what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not callable(predicate) or not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_held_lock_is_renewed_and_outlives_its_ttl(url: str) -> None:
    # A TTL of 2 s renewed every 0.1 s: while the holder lives, its expiry keeps moving forward, so a
    # reconcile longer than the TTL keeps its lock; once released, the next one gets it at once.
    with Store(url) as a, Store(url) as b:
        lock = DatabaseWorkspaceLock(a, "prod", ttl_s=2.0, renew_every_s=0.1)
        assert lock.acquire()
        first = a.lock_holder("prod")
        assert first is not None
        _wait_for(lambda: lock.renewals >= 3, "three renewals")
        later = a.lock_holder("prod")
        assert later is not None and later.expires_at > first.expires_at
        assert later.holder == first.holder and not lock.lost
        assert not b.try_lock("prod", "host-b", ttl_s=60)
        lock.release()
        assert b.try_lock("prod", "host-b", ttl_s=60)


def test_a_stalled_holder_loses_the_lock_and_knows_it(url: str) -> None:
    with Store(url) as a, Store(url) as b:
        lock = DatabaseWorkspaceLock(a, "prod", ttl_s=-1.0, renew_every_s=0.05)  # expired at once
        assert lock.acquire()
        assert b.try_lock("prod", "host-b", ttl_s=60)  # taken over, as after a stall past the TTL
        _wait_for(lambda: lock.lost, "the holder to see it lost the lock")
        lock.release()  # releasing a lost lock leaves the new holder's row alone
        holder = b.lock_holder("prod")
        assert holder is not None and holder.holder == "host-b"


def test_proposals_save_list_and_update(url: str) -> None:
    from driftctl.audit.tables import ProposalRow

    with Store(url) as store:
        for pid, workspace in (("abcd11111111", "prod"), ("abcd22222222", "dev")):
            store.save_proposal(
                ProposalRow(
                    id=pid, run_id="r1", workspace=workspace, address="aws_s3_bucket.b", strategy="revert"
                )
            )
        assert store.proposal("ABCD1").status == "pending"
        updated = store.update_proposal("abcd11111111", status="approved", approved_by="alice")
        assert (updated.status, updated.approved_by) == ("approved", "alice")
        assert [p.id for p in store.proposals(workspace="prod")] == ["abcd11111111"]
        assert [p.id for p in store.open_proposals("dev", "aws_s3_bucket.b")] == ["abcd22222222"]


def test_the_breaker_opens_and_resets_on_both_backends(url: str) -> None:
    with Store(url) as store:
        for _ in range(3):
            row = store.record_heal("prod", False, 3, reason="apply failed")
        assert row.open and row.failures == 3
        assert not store.reset_breaker("prod").open
        assert [b.workspace for b in store.breakers()] == ["prod"]
