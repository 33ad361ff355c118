"""Several processes on one SQLite file: appends stay one chain, a lock has one winner (real processes)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from driftctl.audit.store import Store

WORKERS, APPENDS, ROUNDS = 4, 50, 20


def _append_worker(url: str, worker: int, barrier: Any) -> None:
    with Store(url) as store:
        barrier.wait(timeout=60)
        for i in range(APPENDS):
            store.append("action", run_id=f"worker-{worker}", status="started", data={"i": i})


def _lock_worker(url: str, worker: int, barrier: Any, results: Any) -> None:
    with Store(url) as store:
        for round_ in range(ROUNDS):
            barrier.wait(timeout=60)
            results.put((round_, worker, store.try_lock(f"ws-{round_}", f"worker-{worker}", 60)))


def _run(target: Any, url: str, n: int, *extra: Any) -> None:
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter each: nothing shared but the file
    barrier = ctx.Barrier(n)
    procs = [ctx.Process(target=target, args=(url, w, barrier, *extra)) for w in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * n


def test_concurrent_appends_form_one_contiguous_chain(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    Store(url).close()  # create the schema once, as `driftctl` would before starting workers
    _run(_append_worker, url, WORKERS)
    with Store(url) as store:
        report = store.verify()
        assert report.ok, report.problems
        assert report.checked == WORKERS * APPENDS
        entries = store.entries()
    assert [e.seq for e in entries] == list(range(1, WORKERS * APPENDS + 1))
    for w in range(WORKERS):
        assert [e.data["i"] for e in entries if e.run_id == f"worker-{w}"] == list(range(APPENDS))


def test_racing_try_lock_has_exactly_one_winner_per_round(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    Store(url).close()
    results = multiprocessing.get_context("spawn").Queue()
    _run(_lock_worker, url, 2, results)
    outcomes = [results.get(timeout=10) for _ in range(2 * ROUNDS)]
    for round_ in range(ROUNDS):
        won = [w for r, w, ok in outcomes if r == round_ and ok]
        assert len(won) == 1, (round_, outcomes)


def _open_worker(url: str, barrier: Any, results: Any) -> None:
    barrier.wait(timeout=60)
    try:
        with Store(url) as store:
            store.append("run", run_id="w", status="started", data={})
        results.put("ok")
    except Exception as exc:  # reported to the test, which names it
        results.put(str(exc))


def test_two_processes_creating_one_new_database_at_once_both_succeed(tmp_path: Path) -> None:
    # Two reconcilers started together on a first run both create the file: neither may fail.
    # (Without a retry, 8 of 40 rounds failed with "database is locked" here.)
    ctx = multiprocessing.get_context("fork")  # fork: both reach the file within microseconds
    failures = []
    for round_ in range(40):
        url = f"sqlite:///{tmp_path / f'fresh-{round_}.db'}"
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_open_worker, args=(url, barrier, results)) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=120)
        failures += [r for r in (results.get(timeout=10), results.get(timeout=10)) if r != "ok"]
        with Store(url) as store:
            assert store.verify().ok
    assert failures == []
