"""A read-only config directory or database (issue 16 item 5).

`audit verify`, `audit list`, `audit export` and `proposals` read a database driftctl cannot write
(opened through a ``mode=ro`` URI, never changed); `reconcile` and `approve` stop with one clear
error. Real processes against a real SQLite file; as root, the commands run without the
capabilities that let root write anywhere (``setpriv``), so the permission bits hold for them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftctl.audit.store import Store

from .conftest import fill

UNPRIVILEGED = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]
READ_ONLY_DIR = stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
READ_ONLY_FILE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH

pytestmark = pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="as root the permission bits only bind a process without CAP_DAC_OVERRIDE (needs setpriv)",
)


def driftctl(*args: str) -> subprocess.CompletedProcess[str]:
    prefix = UNPRIVILEGED if os.geteuid() == 0 else []
    env = {k: v for k, v in os.environ.items() if k != "DRIFTCTL_DATABASE_URL"}
    argv = [*prefix, sys.executable, "-m", "driftctl.cli", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)


def _config(directory: Path) -> Path:
    (directory / "ws").mkdir()
    config = directory / "driftctl.yaml"
    config.write_text("version: 1\nworkspaces:\n  - name: dev\n    path: ws\n")
    return config


@pytest.fixture
def read_only_store(tmp_path: Path) -> Iterator[Path]:
    """A config directory holding a filled database; directory and file then made read-only."""
    config = _config(tmp_path)
    db = tmp_path / ".driftctl" / "driftctl.db"
    with Store.open(db) as store:
        fill(store, 4)
    for path in (db, tmp_path / ".driftctl", tmp_path):
        path.chmod(READ_ONLY_FILE if path.is_file() else READ_ONLY_DIR)
    try:
        yield config
    finally:
        for path in (tmp_path, tmp_path / ".driftctl"):
            path.chmod(0o755)


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


def test_reading_commands_work_on_a_read_only_database(read_only_store: Path) -> None:
    config = str(read_only_store)
    data_dir = read_only_store.parent / ".driftctl"
    before = _digests(data_dir)

    verify = driftctl("audit", "verify", "-c", config)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "audit chain intact: 4 rows" in verify.stdout
    listed = driftctl("audit", "list", "-c", config)
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 5, listed.stderr
    exported = driftctl("audit", "export", "-c", config)
    assert exported.returncode == 0 and len(exported.stdout.splitlines()) == 4, exported.stderr
    proposals = driftctl("proposals", "-c", config, "--all", "-o", "json")
    assert proposals.returncode == 0 and proposals.stdout.strip() == "[]", proposals.stderr

    assert _digests(data_dir) == before  # nothing written: no -wal, no -shm, the file untouched


@pytest.mark.parametrize(
    "args",
    [("reconcile", "--mode", "propose"), ("proposals", "approve", "abc123"), ("breaker", "reset", "dev")],
)
def test_writing_commands_stop_with_one_clear_error(read_only_store: Path, args: tuple[str, ...]) -> None:
    run = driftctl(*args, "-c", str(read_only_store))
    assert run.returncode == 1
    db = read_only_store.parent / ".driftctl" / "driftctl.db"
    assert run.stderr.startswith(f"error: database {db} is read-only, and this command writes to it\n")
    assert "Traceback" not in run.stderr


def test_a_read_only_config_directory_without_a_database(tmp_path: Path) -> None:
    config = _config(tmp_path)
    tmp_path.chmod(READ_ONLY_DIR)
    try:
        runs = {
            "reconcile": driftctl("reconcile", "-c", str(config)),
            "verify": driftctl("audit", "verify", "-c", str(config)),
            "proposals": driftctl("proposals", "-c", str(config)),
        }
    finally:
        tmp_path.chmod(0o755)
    for name, run in runs.items():
        assert run.returncode == 1, name
        assert "Traceback" not in run.stderr and run.stderr.count("error:") == 1, name
    data_dir = tmp_path / ".driftctl"
    assert f"error: cannot create {data_dir} for the driftctl database" in runs["reconcile"].stderr
    for reader in ("verify", "proposals"):  # a reader never creates a store: it says none is there
        assert f"error: no audit trail at {data_dir / 'driftctl.db'}" in runs[reader].stderr
    assert not data_dir.exists()


def test_a_read_only_wal_database_in_a_writable_directory_is_opened_normally(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with Store(f"sqlite:///{db}") as store:
        fill(store, 2)
    with Store(f"sqlite:///{db}", read_only=True) as store:
        assert not store.read_only  # writable here: the normal path, nothing special
        assert store.verify().ok
