"""`write_text_safely` and `detect --out` (issue 16 item 11): a special file is never replaced.

Everything happens in tmp_path (a FIFO, symlinks, a link to this process's stdout pipe); the real
/dev/null and /dev/stdout are never touched.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.fileio import write_text_safely

PLAN = Path(__file__).parents[1] / "fixtures" / "plans" / "all_drift_refresh_only.json"


class FifoReader(threading.Thread):
    """Reads a FIFO to its end (a writer blocks until a reader opens it)."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.data = ""

    def run(self) -> None:
        with open(self.path, encoding="utf-8") as handle:
            self.data = handle.read()


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_a_new_path_is_written_with_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    write_text_safely(target, "hello\n")
    assert target.read_text() == "hello\n"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert _leftovers(tmp_path) == []


def test_a_regular_file_is_replaced_atomically_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old")
    target.chmod(0o640)
    inode = target.stat().st_ino
    write_text_safely(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_ino != inode  # a rename, not a rewrite: readers never see half a file
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "report.txt"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text_safely(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert _leftovers(tmp_path) == [] and _leftovers(real.parent) == []


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "later.txt")
    write_text_safely(link, "x")
    assert link.is_symlink() and (tmp_path / "later.txt").read_text() == "x"


def test_a_fifo_is_written_in_place_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    reader.start()
    write_text_safely(fifo, "through the pipe\n")
    reader.join(timeout=30)
    assert reader.data == "through the pipe\n"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert _leftovers(tmp_path) == []


def test_a_symlink_to_a_fifo_writes_into_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    reader = FifoReader(fifo)
    reader.start()
    write_text_safely(link, "via the link\n")
    reader.join(timeout=30)
    assert reader.data == "via the link\n"
    assert link.is_symlink() and stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_a_character_device_is_written_in_place(tmp_path: Path) -> None:
    null = tmp_path / "null"  # a private copy of /dev/null (major 1, minor 3), never the real one
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    write_text_safely(null, "discarded")
    assert stat.S_ISCHR(null.lstat().st_mode)
    assert _leftovers(tmp_path) == []


def test_a_missing_directory_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_text_safely(tmp_path / "nope" / "x.txt", "x")


# -- the CLI ---------------------------------------------------------------------------------------------


def _detect(out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["detect", "-q", "--plan-file", str(PLAN), "-o", "json", "--out", str(out)]
    )
    return result.exit_code, result.output


def test_detect_out_into_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    reader.start()
    code, output = _detect(fifo)
    reader.join(timeout=60)
    assert code == 2, output
    assert '"schema_version": "1"' in reader.data
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and _leftovers(tmp_path) == []


def test_detect_out_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "drift.json"
    link.symlink_to(real)
    code, output = _detect(link)
    assert code == 2, output
    assert link.is_symlink() and '"schema_version": "1"' in real.read_text()


def test_detect_out_to_a_link_to_its_own_stdout(tmp_path: Path) -> None:
    # What /dev/stdout is: a link to the process's fd 1 (here a pipe). It must be written, not replaced.
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    run = subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "detect", "-q", "--plan-file", str(PLAN), "--out", str(link)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert "1 workspace: 1 drift" in run.stdout  # the console report, through the pipe
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    assert _leftovers(tmp_path) == []


def test_detect_out_into_a_missing_directory_is_one_error(tmp_path: Path) -> None:
    code, output = _detect(tmp_path / "nope" / "drift.json")
    assert code == 1
    assert f"error: cannot write the report to {tmp_path / 'nope' / 'drift.json'}" in output
