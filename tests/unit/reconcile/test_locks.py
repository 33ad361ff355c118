"""FileWorkspaceLock across real processes: one holder at a time, and death releases it (I/O: files)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from driftctl.reconcile.locks import FileWorkspaceLock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from driftctl.reconcile.locks import FileWorkspaceLock
    lock = FileWorkspaceLock(Path(sys.argv[1]), "prod")
    print("held" if lock.acquire() else "busy", flush=True)
    time.sleep(600)
    """
)


def _holder(directory: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_cannot_take_a_held_lock_and_is_told_who_holds_it(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    try:
        mine = FileWorkspaceLock(tmp_path, "prod")
        assert mine.acquire() is False
        assert f":{proc.pid}:" in mine.holder()
        assert str(tmp_path / "prod.lock") in mine.holder()
        other = FileWorkspaceLock(tmp_path, "staging")  # locks are per workspace
        assert other.acquire() is True
        other.release()
    finally:
        proc.kill()
        proc.wait()


def test_sigkill_of_the_holder_releases_the_lock(tmp_path: Path) -> None:
    proc = _holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    mine = FileWorkspaceLock(tmp_path, "prod")
    assert mine.acquire() is True
    assert f":{os.getpid()}:" in mine.holder()
    mine.release()


def test_release_lets_the_next_one_in_and_is_idempotent(tmp_path: Path) -> None:
    first, second = FileWorkspaceLock(tmp_path, "prod"), FileWorkspaceLock(tmp_path, "prod")
    assert first.acquire() is True
    first.release()
    first.release()  # a second release is harmless
    assert second.acquire() is True
    assert not (tmp_path / "prod.holder").exists() or f":{os.getpid()}:" in second.holder()
    second.release()
    assert not (tmp_path / "prod.holder").exists()
    assert second.holder() == "another reconciler"  # nobody: the generic words, never an error


def test_a_shared_store_locks_through_the_database_and_a_held_workspace_is_skipped(tmp_path: Path) -> None:
    # Several machines sharing one store: the lock is a database row; the second reconciler skips the
    # workspace (exit 4), names who holds it, and writes the alert to the audit trail. No Terraform runs.
    from driftctl.audit.store import Store
    from driftctl.core import ReconcileOptions, Runtime, Status, reconcile
    from driftctl.detect.engine import Policy, Target
    from driftctl.detect.severity import load_severity_rules
    from driftctl.errors import EXIT_SKIPPED
    from driftctl.reconcile.locks import DatabaseWorkspaceLock

    store = Store(f"sqlite:///{tmp_path / 'shared.db'}")
    rt = Runtime(
        store=store,
        data_dir=tmp_path,
        policy=Policy(load_severity_rules(None)),
        progress=lambda _m: None,
        shared_lock=True,
    )
    options = ReconcileOptions(mode="auto", drafter="rules")
    assert isinstance(rt.lock_for("prod", 600), DatabaseWorkspaceLock)
    assert store.try_lock("prod", "other-host:4242:abc", 600)
    report = reconcile([Target(name="prod", path=tmp_path / "missing")], rt, options)
    (ws,) = report.workspaces
    assert ws.status is Status.SKIPPED and report.exit_code == EXIT_SKIPPED
    assert "other-host:4242:abc (database lock)" in ws.alerts[0]
    (alert,) = [e for e in store.entries(kind="alert")]
    assert alert.status == "skipped" and "other-host:4242:abc" in alert.data["message"]
    # Released by its holder, the next run gets past the lock (and then fails on the missing directory).
    store.unlock("prod", "other-host:4242:abc")
    again = reconcile([Target(name="prod", path=tmp_path / "missing")], rt, options)
    assert again.workspaces[0].status is Status.ERROR and "is not a directory" in (
        again.workspaces[0].error or ""
    )
    assert store.lock_holder("prod") is None  # released after the run
    store.close()
