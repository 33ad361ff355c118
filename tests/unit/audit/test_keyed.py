"""Issue 16 item 4: the chain is keyed, its head signed, and anchors prove no row was cut since.

Each tampering is done the way someone with write access to the database file (and no key) would:
plain SQL, recomputing whatever can be recomputed without the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.audit.chain import entry_hash, hashed_fields
from driftctl.audit.keys import KEY_FILE_NAME, Keyring, key_id, load_keyring, rotate_key_file
from driftctl.audit.store import Store
from driftctl.cli.audit import audit
from driftctl.errors import ConfigError

from .conftest import fill, tamper


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(audit, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _row(db_path: Path, seq: int) -> dict[str, object]:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute("SELECT * FROM driftctl_audit WHERE seq = ?", (seq,)).fetchone()
        return dict(found)
    finally:
        conn.close()


def test_the_key_file_is_made_0600_next_to_the_database_on_the_first_write(
    store: Store, db_path: Path
) -> None:
    key_file = db_path.parent / KEY_FILE_NAME
    assert not key_file.exists()  # opening (or verifying) writes nothing
    fill(store, 1)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    secret = [line for line in key_file.read_text().splitlines() if not line.startswith("#")][-1]
    assert secret not in db_path.read_bytes().decode("latin-1")  # the key never enters the database
    entry = store.entry(1)
    assert entry is not None and entry.key_id == key_id(secret)
    assert secret not in repr(store.keyring)


def test_cut_tail_and_copy_the_previous_row_into_the_head_is_caught(store: Store, db_path: Path) -> None:
    # The probe from the issue: delete the last row, set the head to the previous row's seq/hash.
    fill(store, 5)
    four = _row(db_path, 4)
    tamper(db_path, "DELETE FROM driftctl_audit WHERE seq = 5")
    tamper(db_path, "UPDATE driftctl_audit_head SET seq = ?, hash = ?", four["seq"], four["hash"])
    report = store.verify()
    assert not report.ok
    assert report.problems == (
        "the head record (seq 4) has a MAC that does not match it (head moved by hand, e.g. after rows "
        "were cut from the end)",
    )
    code, out = _run("verify", "--database", f"sqlite:///{db_path}")
    assert code == 1 and "head record (seq 4)" in out


def test_cut_tail_and_strip_the_head_signature_is_caught(store: Store, db_path: Path) -> None:
    fill(store, 5)
    four = _row(db_path, 4)
    tamper(db_path, "DELETE FROM driftctl_audit WHERE seq = 5")
    tamper(
        db_path,
        "UPDATE driftctl_audit_head SET seq = ?, hash = ?, mac = NULL, key_id = NULL",
        4,
        four["hash"],
    )
    assert store.verify().problems == (
        "the head record (seq 4) is unsigned but the rows are keyed (head moved by hand)",
    )


@pytest.mark.parametrize("keyed", [True, False])
def test_a_forged_append_with_the_head_moved_is_named(store: Store, db_path: Path, keyed: bool) -> None:
    # The other probe: append a row hashed the only way one can without the key, move the head to it.
    fill(store, 3)
    last = _row(db_path, 3)
    fields = {
        "seq": 4,
        "ts": "2030-01-01T00:00:00.000000+00:00",
        "run_id": "forged",
        "workspace": "prod",
        "kind": "approval",
        "subject": "aws_s3_bucket.b0",
        "status": "approved",
        "data": "{}",
        "prev_hash": last["hash"],
        "key_id": last["key_id"] if keyed else None,
    }
    digest = entry_hash(str(last["hash"]), hashed_fields(fields))
    tamper(
        db_path,
        "INSERT INTO driftctl_audit (seq, ts, run_id, workspace, kind, subject, status, data, prev_hash,"
        " key_id, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        *fields.values(),
        digest,
    )
    tamper(db_path, "UPDATE driftctl_audit_head SET seq = 4, hash = ?", digest)
    problems = store.verify().problems
    expected = (
        "seq 4: MAC does not match its contents (edited, or forged without the key)"
        if keyed
        else "seq 4: an unkeyed row after keyed rows (forged behind the store)"
    )
    assert problems[0] == expected
    assert any("head record (seq 4) has a MAC that does not match" in p for p in problems)
    code, out = _run("verify", "--database", f"sqlite:///{db_path}")
    assert code == 1 and "seq 4:" in out


def test_verifying_with_the_wrong_key_names_the_key(store: Store, db_path: Path) -> None:
    fill(store, 2)
    kid = store.entry(1).key_id  # type: ignore[union-attr]
    with Store(f"sqlite:///{db_path}", Keyring.ephemeral()) as other:
        problems = other.verify().problems
    assert problems[0] == f"seq 1: signed with audit key {kid}, which an in-memory key does not hold"


def test_rotation_new_rows_use_the_new_key_and_old_rows_still_verify(store: Store, db_path: Path) -> None:
    fill(store, 2)
    key_file = db_path.parent / KEY_FILE_NAME
    old_id = store.entry(1).key_id  # type: ignore[union-attr]
    new_id = rotate_key_file(key_file)
    assert new_id != old_id and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    with Store(f"sqlite:///{db_path}") as rotated:
        fill(rotated, 2)
        assert [rotated.entry(s).key_id for s in (1, 2, 3, 4)] == [old_id, old_id, new_id, new_id]  # type: ignore[union-attr]
        assert rotated.verify().ok
    # Dropping the old key makes its rows unverifiable, and says which key is missing.
    lines = key_file.read_text().splitlines()
    key_file.write_text(lines[-1] + "\n")
    with Store(f"sqlite:///{db_path}") as dropped:
        assert dropped.verify().problems[0] == (
            f"seq 1: signed with audit key {old_id}, which {key_file} does not hold"
        )


def test_keys_from_an_environment_variable_named_in_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "driftctl.yaml"
    config.write_text("version: 1\naudit:\n  key_env: MY_AUDIT_KEY\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MY_AUDIT_KEY", raising=False)
    (tmp_path / ".driftctl").mkdir()
    Store(f"sqlite:///{tmp_path / '.driftctl' / 'driftctl.db'}", Keyring.ephemeral()).close()  # empty trail
    result = CliRunner().invoke(audit, ["list"])
    assert result.exit_code == 1 and "audit.key_env names $MY_AUDIT_KEY, which is not set" in result.output
    monkeypatch.setenv("MY_AUDIT_KEY", "short")
    result = CliRunner().invoke(audit, ["list"])
    assert (
        result.exit_code == 1 and "at least 32 characters" in result.output and "short" not in result.output
    )
    secret = "ab" * 32
    monkeypatch.setenv("MY_AUDIT_KEY", secret)
    with Store.open(tmp_path / ".driftctl" / "driftctl.db", config) as store:
        fill(store, 2)
        assert store.entry(2).key_id == key_id(secret)  # type: ignore[union-attr]
    assert not (tmp_path / ".driftctl" / KEY_FILE_NAME).exists()  # no file when the env holds the key
    assert _run("verify")[0] == 0
    monkeypatch.setenv("MY_AUDIT_KEY", "cd" * 32)
    code, out = _run("verify")
    assert code == 1 and "does not hold" in out


def test_a_key_file_named_in_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "driftctl.yaml").write_text("version: 1\naudit:\n  key_file: keys/audit.key\n")
    monkeypatch.chdir(tmp_path)
    with Store.open(tmp_path / ".driftctl" / "driftctl.db", tmp_path / "driftctl.yaml") as store:
        fill(store, 1)
    assert (tmp_path / "keys" / "audit.key").is_file()
    assert not (tmp_path / ".driftctl" / "audit.key").exists()
    assert _run("list")[0] == 0
    code, out = _run("rotate-key")
    assert code == 0 and str(tmp_path / "keys" / "audit.key") in out
    assert _run("verify")[0] == 0


def test_a_malformed_key_file_is_a_clear_error_without_the_line(tmp_path: Path) -> None:
    (tmp_path / "k").write_text("not a key\n")
    with pytest.raises(ConfigError, match=r"k, line 1: an audit key must be one word") as caught:
        load_keyring(tmp_path / "k")
    assert "not a key" not in caught.value.message


def test_a_database_from_before_keys_is_migrated_and_its_rows_stay_verifiable(tmp_path: Path) -> None:
    """An old trail: no key_id/mac columns, plain sha256 rows. New rows are keyed after it."""
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(
        "CREATE TABLE driftctl_audit (seq INTEGER PRIMARY KEY, ts VARCHAR, run_id VARCHAR, workspace VARCHAR,"
        " kind VARCHAR, subject VARCHAR, status VARCHAR, data VARCHAR, prev_hash VARCHAR, hash VARCHAR);"
        "CREATE TABLE driftctl_audit_head (id INTEGER PRIMARY KEY, seq INTEGER, hash VARCHAR);"
    )
    prev = "0" * 64
    for seq in (1, 2):
        fields = {
            "seq": seq, "ts": "t", "run_id": "r", "workspace": None, "kind": "run", "subject": None,
            "status": "started", "data": "{}", "prev_hash": prev,
        }  # fmt: skip
        prev = hashlib.sha256(
            prev.encode() + b"\n" + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        conn.execute("INSERT INTO driftctl_audit VALUES (?,?,?,?,?,?,?,?,?,?)", (*fields.values(), prev))
    conn.execute("INSERT INTO driftctl_audit_head VALUES (1, 2, ?)", (prev,))
    conn.commit()
    conn.close()
    with Store(f"sqlite:///{db}") as store:
        assert store.verify().ok  # legacy rows verify as they were
        fill(store, 2)
        assert store.verify().ok, store.verify().problems
        assert store.entry(2).key_id is None and store.entry(3).key_id is not None  # type: ignore[union-attr]
    tamper(db, "UPDATE driftctl_audit SET status = 'x' WHERE seq = 1")
    with Store(f"sqlite:///{db}") as store:
        assert store.verify().problems == ("seq 1: hash does not match its contents (edited)",)


# -- anchors ---------------------------------------------------------------------------------------


def test_anchor_to_a_file_then_cut_rows_and_replay_an_old_head(
    store: Store, db_path: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{db_path}"
    fill(store, 3)
    anchors = tmp_path / "anchors.jsonl"
    code, out = _run("anchor", "--to", str(anchors), "--database", url)
    assert code == 0 and "seq 3" in out
    saved_head = (
        sqlite3.connect(db_path).execute("SELECT seq, hash, key_id, mac FROM driftctl_audit_head").fetchone()
    )
    fill(store, 3)
    assert _run("anchor", "--to", str(anchors), "--database", url)[0] == 0
    code, out = _run("verify", "--anchor", str(anchors), "--database", url)
    assert code == 0 and "no row removed since 1 anchor source(s)" in out, out
    # An attacker who kept the signed head of seq 3 cuts rows 4-6 and puts that head back:
    tamper(db_path, "DELETE FROM driftctl_audit WHERE seq > 3")
    tamper(db_path, "UPDATE driftctl_audit_head SET seq = ?, hash = ?, key_id = ?, mac = ?", *saved_head)
    assert _run("verify", "--database", url)[0] == 0  # the chain alone cannot tell
    code, out = _run("verify", "--anchor", str(anchors), "--database", url)
    assert code == 1
    assert f"anchor {anchors}:2 (seq 6," in out and "row 6 is gone (rows removed since the anchor)" in out
    assert "the head is at seq 3, behind the anchor" in out


def test_an_edited_anchor_is_named(store: Store, db_path: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    fill(store, 3)
    anchors = tmp_path / "a.jsonl"
    _run("anchor", "--to", str(anchors), "--database", url)
    doc = json.loads(anchors.read_text())
    anchors.write_text(json.dumps({**doc, "seq": 2, "hash": _row(db_path, 2)["hash"]}) + "\n")
    code, out = _run("verify", "--anchor", str(anchors), "--database", url)
    assert code == 1 and "its MAC does not match (the anchor was edited)" in out
    anchors.write_text("garbage\n")
    code, out = _run("verify", "--anchor", str(anchors), "--database", url)
    assert code == 1 and "is not a driftctl audit anchor" in out


def test_anchor_to_a_git_ref(store: Store, db_path: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    url = f"sqlite:///{db_path}"
    fill(store, 2)
    ref = "refs/driftctl/audit-anchor"
    assert _run("anchor", "--to", ref, "--repo", str(repo), "--database", url)[0] == 0
    fill(store, 2)
    code, out = _run("anchor", "--to", ref, "--repo", str(repo), "--database", url)
    assert code == 0 and "seq 4" in out
    log = subprocess.run(["git", "-C", str(repo), "log", "--format=%s", ref], capture_output=True, text=True)
    subjects = log.stdout.strip().splitlines()
    # one commit per anchor, each on the previous
    assert [s.split(" ")[:5] for s in subjects] == [
        ["driftctl", "audit", "anchor:", "seq", "4"],
        ["driftctl", "audit", "anchor:", "seq", "2"],
    ]
    assert _run("verify", "--anchor", ref, "--repo", str(repo), "--database", url)[0] == 0
    tamper(db_path, "DELETE FROM driftctl_audit WHERE seq = 4")
    code, out = _run("verify", "--anchor", ref, "--repo", str(repo), "--database", url)
    assert code == 1 and "row 4 is gone" in out


def test_anchoring_a_broken_or_empty_chain_is_refused(store: Store, db_path: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    code, out = _run("anchor", "--to", str(tmp_path / "a"), "--database", url)
    assert code == 1 and "nothing to anchor yet" in out
    fill(store, 2)
    tamper(db_path, "UPDATE driftctl_audit SET status = 'x' WHERE seq = 1")
    code, out = _run("anchor", "--to", str(tmp_path / "a"), "--database", url)
    assert code == 1 and "refusing to anchor a broken audit chain: seq 1" in out
    assert not (tmp_path / "a").exists()


def test_two_first_writers_agree_on_one_key(tmp_path: Path) -> None:
    from driftctl.audit.keys import create_key_file

    path = tmp_path / "d" / "audit.key"
    first = create_key_file(path)
    assert create_key_file(path) == first  # the second writer reads the key the first one linked
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temporary left behind
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert os.access(path, os.R_OK)
