"""Issue 16 item 8: scratch directories live under .driftctl/tmp (0700) and a dead run's are swept."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from driftctl.scratch import scratch_dir, sweep, use_base

CHILD = """
import sys, time
from pathlib import Path
from driftctl.scratch import scratch_dir
with scratch_dir("reconcile-", Path(sys.argv[1])) as tmp:
    (tmp / "plan.tfplan").write_text("state with a secret")
    print(tmp, flush=True)
    time.sleep(600)
"""


def test_scratch_dirs_are_private_owned_and_removed(tmp_path: Path) -> None:
    base = tmp_path / ".driftctl" / "tmp"
    with scratch_dir("apply-", base) as tmp:
        assert tmp.parent == base
        assert tmp.name.startswith(f"driftctl-apply-{os.getpid()}-")
        assert stat.S_IMODE(base.stat().st_mode) == 0o700
        assert stat.S_IMODE(tmp.stat().st_mode) == 0o700
        assert (tmp / "owner").read_text().split()[0] == str(os.getpid())
        assert sweep(base) == []  # a live owner's directory is never touched
        assert tmp.is_dir()
    assert not tmp.exists()


def test_use_base_sends_nested_scratch_dirs_there(tmp_path: Path) -> None:
    with use_base(tmp_path / "tmp"), scratch_dir("checkov-") as tmp:
        assert tmp.parent == tmp_path / "tmp"
    with scratch_dir("checkov-") as tmp:
        assert tmp.parent == Path(tempfile.gettempdir())  # no base set: the system's, still owned


def test_a_sigkilled_runs_scratch_dir_is_swept_at_the_next_start(tmp_path: Path) -> None:
    base = tmp_path / "tmp"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(base)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    left = Path(child.stdout.readline().strip())
    assert sweep(base) == []  # still running
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert (left / "plan.tfplan").is_file()  # a SIGKILL skips every finally
    notes = sweep(base)
    assert notes == [f"removed {left.name}, left in {base} by process {child.pid}, which is gone"]
    assert not left.exists()


def test_a_dir_killed_before_its_owner_file_is_swept_by_the_pid_in_its_name(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(child.stdout)
    orphan = tmp_path / f"driftctl-reconcile-{dead}-abc_12xy"
    orphan.mkdir()
    stranger = tmp_path / "driftctl-not-ours"  # no pid in the name, no owner: left alone
    stranger.mkdir()
    assert len(sweep(tmp_path)) == 1
    assert not orphan.exists() and stranger.exists()
