"""Issue 16 items 3, 4 and 8 end to end: tampering with a real run's database through SQL, and a real
SIGKILL in the middle of an adopt apply (real Terraform, moto sandbox, the CLI as a subprocess).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from driftctl.sandbox.sandbox import Sandbox
from tests.e2e.test_reconcile import (
    LOG_GROUP,
    QUEUE,
    _copy_db,
    _tamper,
    audit,
    cli,
    cli_argv,
    cli_env,
    drift,
    heal,
    items,
    proposals,
    reconcile,
    rows,
)

pytestmark = pytest.mark.slow

EVIL_LINE = '+    pwned = "yes"\n'


@pytest.fixture
def sb(fast_sandbox: Sandbox) -> Sandbox:
    heal(fast_sandbox)
    return fast_sandbox


@pytest.fixture
def config(sb: Sandbox) -> Path:
    return sb.layout.config_file


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "driftctl.db"


def _code(sb: Sandbox) -> dict[Path, str]:
    return {p: p.read_text() for p in sorted(sb.layout.root.rglob("*.tf")) if ".terraform" not in p.parts}


def _out(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def test_proposal_tampering_is_caught_by_apply_and_verify(
    sb: Sandbox, config: Path, db: Path, tmp_path: Path
) -> None:
    drift(sb, "queue")
    sb.drift("tag", address=LOG_GROUP, params={"key": "owner", "value": "dave"})
    proc, doc = reconcile(config, db, "propose")
    assert proc.returncode == 2, proc.stderr
    got = items(doc)
    revert_id, adopt_id = got[QUEUE]["proposal_id"], got[LOG_GROUP]["proposal_id"]
    assert cli(db, "audit", "verify", "-c", str(config)).returncode == 0
    code = _code(sb)

    # 1. A pending proposal set to approved in the database: apply refuses, verify names it.
    status = _copy_db(db, tmp_path / "status.db")
    _tamper(status, "UPDATE driftctl_proposal SET status = 'approved' WHERE id = ?", revert_id)
    applied = cli(status, "apply", revert_id, "-c", str(config), "--no-checkov")
    assert applied.returncode == 1
    assert (
        f"refusing to apply proposal {revert_id}: status approved in the database, but its chained state "
        "is pending" in _out(applied)
    )
    assert "Traceback" not in _out(applied)
    verify = cli(status, "audit", "verify", "-c", str(config))
    assert (
        verify.returncode == 1 and f"proposal {revert_id}: status approved in the database" in verify.stdout
    )

    # 2. An approved adopt whose stored diff is replaced: apply refuses and writes nothing.
    assert cli(db, "approve", adopt_id, "-c", str(config)).returncode == 0
    edited = _copy_db(db, tmp_path / "diff.db")
    (data,) = sqlite3.connect(edited).execute("SELECT data FROM driftctl_proposal WHERE id = ?", (adopt_id,))
    doc_data = json.loads(data[0])
    edit = doc_data["edits"][0]  # the stored record: each edit is the whole file before and after
    lines = edit["after"].splitlines(keepends=True)
    edit["after"] = "".join(lines[:-1]) + EVIL_LINE + lines[-1]  # one more line the reviewer never saw
    _tamper(edited, "UPDATE driftctl_proposal SET data = ? WHERE id = ?", json.dumps(doc_data), adopt_id)
    applied = cli(edited, "apply", adopt_id, "-c", str(config), "--no-checkov")
    assert applied.returncode == 1
    assert f"refusing to apply proposal {adopt_id}: its content (diff / plan sha256) does not match" in _out(
        applied
    )
    assert _code(sb) == code  # nothing written
    verify = cli(edited, "audit", "verify", "-c", str(config))
    assert verify.returncode == 1 and f"proposal {adopt_id}: its content" in verify.stdout

    # 3. The chain probes: cut the tail and move the head back; append a forged row and move the head.
    last = audit(db)[-1]
    cut = _copy_db(db, tmp_path / "cut.db")
    _tamper(cut, "DELETE FROM driftctl_audit WHERE seq = ?", last.seq)
    _tamper(cut, "UPDATE driftctl_audit_head SET seq = ?, hash = ?", last.seq - 1, last.prev_hash)
    verify = cli(cut, "audit", "verify", "-c", str(config))
    assert verify.returncode == 1 and f"the head record (seq {last.seq - 1}) has a MAC" in verify.stdout
    forged = _copy_db(db, tmp_path / "forged.db")
    _tamper(
        forged,
        "INSERT INTO driftctl_audit (seq, ts, run_id, kind, status, data, prev_hash, key_id, hash)"
        " VALUES (?, 't', 'r', 'approval', 'approved', '{}', ?, ?, ?)",
        last.seq + 1,
        last.hash,
        last.key_id,
        "f" * 64,
    )
    _tamper(forged, "UPDATE driftctl_audit_head SET seq = ?, hash = ?", last.seq + 1, "f" * 64)
    verify = cli(forged, "audit", "verify", "-c", str(config))
    assert verify.returncode == 1 and f"seq {last.seq + 1}: MAC does not match" in verify.stdout

    # The untouched database still applies the approved adopt.
    applied = cli(db, "apply", adopt_id, "-c", str(config), "--no-checkov", "-o", "json")
    assert applied.returncode == 0, _out(applied)
    assert json.loads(applied.stdout)["status"] == "applied"
    for path, text in code.items():
        path.write_text(text)  # leave the module's sandbox as the next test expects it
    assert cli(db, "audit", "verify", "-c", str(config)).returncode == 0


def _wait_for_write_code(db: Path, proc: subprocess.Popen[str], deadline: float) -> bool:
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                found = conn.execute(
                    "SELECT 1 FROM driftctl_audit WHERE kind = 'action' AND status = 'started'"
                    " AND data LIKE '%\"write-code\"%'"
                ).fetchone()
        except sqlite3.OperationalError:
            found = None
        if found is not None:
            return True
        time.sleep(0.01)
    return False


def test_sigkill_during_an_adopt_apply_is_rolled_back_by_the_next_run(
    sb: Sandbox, config: Path, db: Path
) -> None:
    sb.drift("tag", address=LOG_GROUP, params={"key": "owner", "value": "erin"})
    proc, doc = reconcile(config, db, "propose")
    assert proc.returncode == 2, proc.stderr
    pid = items(doc)[LOG_GROUP]["proposal_id"]
    assert cli(db, "approve", pid, "-c", str(config)).returncode == 0
    before = _code(sb)
    data_dir = sb.layout.root / ".driftctl"

    apply = subprocess.Popen(
        cli_argv("apply", pid, "-c", str(config), "--no-checkov"),
        env=cli_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    written = _wait_for_write_code(db, apply, time.monotonic() + 120)
    # The `started` row comes just before the files are written: kill only once the edit is in the tree.
    deadline = time.monotonic() + 60
    while written and apply.poll() is None and _code(sb) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    if apply.poll() is None:
        os.kill(apply.pid, signal.SIGKILL)
    out, err = apply.communicate(timeout=60)
    assert written, f"the apply ended before it wrote the edit: {out}\n{err}"
    assert apply.returncode == -signal.SIGKILL
    assert _code(sb) != before  # the kill left the edit in the working tree
    assert (data_dir / "journal" / f"adopt-{pid}.json").is_file()
    left = list((data_dir / "tmp").glob(f"driftctl-apply-{apply.pid}-*"))
    assert len(left) == 1, list((data_dir / "tmp").iterdir())  # under .driftctl/tmp, 0700 ...
    assert oct(left[0].stat().st_mode & 0o777) == "0o700"
    assert not list(Path(tempfile.gettempdir()).glob(f"driftctl-*-{apply.pid}-*"))  # ... and not in /tmp

    again, doc = reconcile(config, db, "propose")
    assert again.returncode == 2, again.stderr
    (ws,) = doc["workspaces"]
    rolled = [n for n in ws["recovered"] if n.startswith(f"rolled back the adopt edit of proposal {pid}")]
    assert rolled, ws["recovered"]
    assert any(n.startswith(f"removed {left[0].name}") for n in ws["recovered"]), ws["recovered"]
    assert _code(sb) == before  # rolled back
    assert not left[0].exists() and not (data_dir / "journal" / f"adopt-{pid}.json").exists()
    (entry,) = rows(audit(db), "action", "rolled_back", LOG_GROUP)
    assert entry.data["proposal"] == pid
    assert items(doc)[LOG_GROUP]["outcome"] == "awaiting_apply"  # still approved: apply can run again
    assert proposals(db, config)[pid]["status"] == "approved"
    assert cli(db, "audit", "verify", "-c", str(config)).returncode == 0

    applied = cli(db, "apply", pid, "-c", str(config), "--no-checkov", "-o", "json")
    assert applied.returncode == 0, _out(applied)
    for path, text in before.items():
        path.write_text(text)
