"""Scratch directories that a crash cannot scatter: private, owned, swept at the next start (I/O: files).

Saved plans hold state (and so secrets), and a SIGKILL skips every ``finally``. So scratch space lives
under the data directory (``.driftctl/tmp``, mode 0700) rather than in ``/tmp``, and every scratch
directory is named after the process that made it and holds an ``owner`` file with that process's
pid and start time. ``sweep`` removes the directories whose owner is dead (or is another process
that reused the pid); a live owner's directory is never touched.

``use_base`` sets where ``scratch_dir`` makes directories for the code below it (checkov's scan, for
one, does not know the data directory); without it they go to the system's temporary directory,
still owned, still swept by the next run that looks there.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

OWNER_FILE = "owner"
PREFIX = "driftctl-"
_NAME_PID = re.compile(r"-(\d+)-[a-z0-9_]+$")  # <prefix><pid>-<mkdtemp's random suffix>
_base: ContextVar[Path | None] = ContextVar("driftctl_scratch_base", default=None)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (``/proc``), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's live process
    now = _start_time(pid)
    return started is None or now is None or now == started


def private_dir(path: Path) -> Path:
    """``path`` created if need be, mode 0700 (tightened if it already existed)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@contextmanager
def use_base(base: Path) -> Iterator[Path]:
    """Scratch directories made below this (in this thread or task) go under ``base`` (made 0700)."""
    token = _base.set(private_dir(base))
    try:
        yield base
    finally:
        _base.reset(token)


@contextmanager
def scratch_dir(prefix: str, base: Path | None = None) -> Iterator[Path]:
    """A fresh 0700 directory ``driftctl-<prefix><pid>-<random>`` under ``base`` (default: the one
    ``use_base`` set, else the system's), removed on exit; a crash leaves it for ``sweep``."""
    where = base if base is not None else _base.get()
    parent = private_dir(where) if where is not None else Path(tempfile.gettempdir())
    pid = os.getpid()
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{prefix}{pid}-", dir=parent))
    try:
        (path / OWNER_FILE).write_text(f"{pid} {_start_time(pid) or '-'}\n", encoding="utf-8")
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _owner(path: Path) -> tuple[int, str | None] | None:
    try:
        pid_text, _, started = (path / OWNER_FILE).read_text(encoding="utf-8").strip().partition(" ")
        return int(pid_text), (None if started in ("", "-") else started)
    except (OSError, ValueError):
        pass
    # Killed between mkdtemp and writing the owner file: the pid is still in the name.
    found = _NAME_PID.search(path.name)
    return (int(found.group(1)), None) if found else None


def sweep(base: Path | None = None) -> list[str]:
    """Remove the scratch directories under ``base`` (default: the system's temporary directory)
    whose owning process is gone; what was removed, as notes."""
    where = base if base is not None else Path(tempfile.gettempdir())
    notes = []
    try:
        candidates = sorted(p for p in where.iterdir() if p.name.startswith(PREFIX) and p.is_dir())
    except OSError:
        return []
    for path in candidates:
        if path.is_symlink():
            continue
        owner = _owner(path)
        if owner is None or _alive(*owner):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            notes.append(f"removed {path.name}, left in {where} by process {owner[0]}, which is gone")
    return notes
