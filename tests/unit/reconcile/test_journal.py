"""Issue 16 item 8: an adopt edit interrupted by a kill is found at the next start and rolled back."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

from driftctl.reconcile import journal

BEFORE = 'resource "aws_s3_bucket" "b" {\n  tags = {}\n}\n'
AFTER = 'resource "aws_s3_bucket" "b" {\n  tags = { owner = "alice" }\n}\n'


def _diff() -> str:
    lines = difflib.unified_diff(
        BEFORE.splitlines(keepends=True), AFTER.splitlines(keepends=True), "a/main.tf", "b/main.tf"
    )
    return "".join(lines)


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def _journal(data: Path, root: Path, pid: int) -> Path:
    path = journal.begin(
        data, proposal="p1", workspace="prod", address="aws_s3_bucket.b", root=root, diff=_diff()
    )
    text = path.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {pid}')
    path.write_text(text)
    return path


def test_an_edit_left_in_the_tree_is_rolled_back_and_said(tmp_path: Path) -> None:
    root, data = tmp_path / "ws", tmp_path / ".driftctl"
    root.mkdir()
    (root / "main.tf").write_text(AFTER)  # the kill came after the edit was written
    path = _journal(data, root, _dead_pid())
    (found,) = journal.recover(data, "prod")
    assert found.outcome == "rolled_back"
    assert found.message.startswith("rolled back the adopt edit of proposal p1 (aws_s3_bucket.b)")
    assert "`driftctl apply p1` to try again" in found.message
    assert (root / "main.tf").read_text() == BEFORE
    assert not path.exists()
    assert journal.recover(data, "prod") == []


def test_an_edit_never_written_needs_no_rollback(tmp_path: Path) -> None:
    root, data = tmp_path / "ws", tmp_path / ".driftctl"
    root.mkdir()
    (root / "main.tf").write_text(BEFORE)  # killed between the journal and the edit
    _journal(data, root, _dead_pid())
    (found,) = journal.recover(data, "prod")
    assert found.outcome == "not_written" and "nothing to roll back" in found.message
    assert (root / "main.tf").read_text() == BEFORE


def test_a_tree_matching_neither_side_is_left_for_a_human(tmp_path: Path) -> None:
    root, data = tmp_path / "ws", tmp_path / ".driftctl"
    root.mkdir()
    (root / "main.tf").write_text("# rewritten by someone since\n")
    path = _journal(data, root, _dead_pid())
    (found,) = journal.recover(data, "prod")
    assert found.outcome == "needs_human" and "check it by hand" in found.message
    assert path.exists()  # kept as evidence


def test_a_live_apply_and_other_workspaces_are_left_alone(tmp_path: Path) -> None:
    root, data = tmp_path / "ws", tmp_path / ".driftctl"
    root.mkdir()
    (root / "main.tf").write_text(AFTER)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        _journal(data, root, sleeper.pid)
        assert journal.recover(data, "prod") == []  # its owner is still applying
        assert journal.recover(data, "staging") == []
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (root / "main.tf").read_text() == AFTER
    assert [r.outcome for r in journal.recover(data, "prod")] == ["rolled_back"]
