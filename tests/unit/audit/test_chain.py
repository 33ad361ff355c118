"""The keyed chain catches edits, deletions and reorderings, and names the seq."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from driftctl.audit.chain import GENESIS, canonical, entry_hash, entry_mac, hashed_fields, verify_chain
from driftctl.audit.keys import Keyring
from driftctl.audit.store import Store, StoreError

from .conftest import fill, tamper


def test_canonical_is_sorted_compact_utf8() -> None:
    assert canonical({"b": 1, "a": "é", "c": Path("x")}) == '{"a":"é","b":1,"c":"x"}'.encode()


def test_entry_hash_covers_prev_hash_and_fields() -> None:
    fields = {"seq": 1, "data": "{}"}
    assert entry_hash(GENESIS, fields) != entry_hash("1" * 64, fields)
    assert entry_hash(GENESIS, fields) != entry_hash(GENESIS, {**fields, "data": '{"a":1}'})
    assert len(entry_hash(GENESIS, fields)) == 64


def test_empty_chain_is_intact() -> None:
    keys = Keyring.ephemeral()
    assert verify_chain([], None, keys).ok
    assert verify_chain([], (0, GENESIS), keys).ok
    assert not verify_chain([], (3, "x" * 64), keys).ok


def test_intact_chain_verifies(store: Store) -> None:
    fill(store, 5)
    report = store.verify()
    assert report.ok, report.problems
    assert report.checked == 5
    assert report.head is not None and report.head[0] == 5


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("data", '{"message":"nothing to see","n":0}'),
        ("status", "approved"),
        ("ts", "2000-01-01T00:00:00.000000+00:00"),
        ("subject", "aws_s3_bucket.other"),
        ("run_id", "run-2"),
        ("workspace", "staging"),
        ("kind", "decision"),
    ],
)
@pytest.mark.parametrize("seq", [1, 3, 5])
def test_editing_any_field_of_any_row_is_named(
    store: Store, db_path: Path, column: str, value: str, seq: int
) -> None:
    fill(store, 5)
    tamper(db_path, f"UPDATE driftctl_audit SET {column} = ? WHERE seq = ?", value, seq)
    report = store.verify()
    assert not report.ok
    assert report.problems == (
        f"seq {seq}: MAC does not match its contents (edited, or forged without the key)",
    )


def test_deleting_a_middle_row_is_named(store: Store, db_path: Path) -> None:
    fill(store, 6)
    tamper(db_path, "DELETE FROM driftctl_audit WHERE seq = 4")
    report = store.verify()
    assert report.problems == ("seq 4 missing (deleted) between 3 and 5",)


def test_deleting_several_rows_names_the_range(store: Store, db_path: Path) -> None:
    fill(store, 6)
    tamper(db_path, "DELETE FROM driftctl_audit WHERE seq IN (2, 3, 4)")
    assert store.verify().problems == ("seqs 2-4 missing (deleted) between 1 and 5",)


def test_deleting_the_first_row_is_caught(store: Store, db_path: Path) -> None:
    fill(store, 3)
    tamper(db_path, "DELETE FROM driftctl_audit WHERE seq = 1")
    assert store.verify().problems == ("the first row is seq 2: seq 1 missing (deleted from the start)",)


def test_deleting_the_last_row_is_caught_by_the_head(store: Store, db_path: Path) -> None:
    fill(store, 12)
    tamper(db_path, "DELETE FROM driftctl_audit WHERE seq > 10")
    report = store.verify()
    assert report.problems == ("the head says seq 12 but the last row is seq 10 (rows deleted from the end)",)


def test_deleting_the_head_is_caught_and_blocks_appends(store: Store, db_path: Path) -> None:
    fill(store, 3)
    tamper(db_path, "DELETE FROM driftctl_audit_head")
    report = store.verify()
    assert not report.ok
    assert "head record is missing" in report.problems[0]
    with pytest.raises(StoreError, match="head record is missing"):
        store.append("run", run_id="r", status="started", data={})
    # Reopening must not quietly recreate the head over existing rows.
    with Store(f"sqlite:///{db_path}") as again:
        assert not again.verify().ok


def test_deleting_everything_but_the_head_is_caught(store: Store, db_path: Path) -> None:
    fill(store, 3)
    tamper(db_path, "DELETE FROM driftctl_audit")
    assert store.verify().problems == ("the head says seq 3 but there are no rows (rows deleted)",)


def test_swapping_two_rows_data_is_caught(store: Store, db_path: Path) -> None:
    fill(store, 4)
    two, three = store.entry(2), store.entry(3)
    assert two is not None and three is not None
    tamper(db_path, "UPDATE driftctl_audit SET data = ? WHERE seq = 2", canonical(three.data).decode())
    tamper(db_path, "UPDATE driftctl_audit SET data = ? WHERE seq = 3", canonical(two.data).decode())
    assert store.verify().problems == (
        "seq 2: MAC does not match its contents (edited, or forged without the key)",
        "seq 3: MAC does not match its contents (edited, or forged without the key)",
    )


def _rehash(db_path: Path, store: Store, seq: int, **changes: str) -> None:
    """An insider who holds the key re-signs one edited row: the links and the head still show it."""
    entry = store.entry(seq)
    assert entry is not None and entry.key_id is not None
    key = store.keyring.get(entry.key_id)
    assert key is not None
    row = {**entry.to_json(), "data": canonical(entry.data).decode(), **changes}
    tamper(
        db_path,
        "UPDATE driftctl_audit SET status = ?, hash = ? WHERE seq = ?",
        row["status"],
        entry_mac(key, row["prev_hash"], hashed_fields(row)),
        seq,
    )


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(store: Store, db_path: Path) -> None:
    fill(store, 5)
    _rehash(db_path, store, 3, status="approved")
    assert store.verify().problems == ("seq 4: prev_hash does not match seq 3's hash",)


def test_rehashing_the_last_row_is_caught_by_the_head_hash(store: Store, db_path: Path) -> None:
    fill(store, 5)
    _rehash(db_path, store, 5, status="approved")
    assert store.verify().problems == ("the head hash does not match seq 5's hash (head or last row edited)",)


def test_a_row_inserted_behind_the_store_is_caught(store: Store, db_path: Path) -> None:
    fill(store, 2)
    tamper(
        db_path,
        "INSERT INTO driftctl_audit (seq, ts, run_id, kind, status, data, prev_hash, hash)"
        " VALUES (3, 'x', 'r', 'run', 'started', '{}', 'p', 'h')",
    )
    problems = store.verify().problems
    assert problems[0] == "seq 3: an unkeyed row after keyed rows (forged behind the store)"
    assert "seq 3: prev_hash does not match seq 2's hash" in problems
    assert problems[-1] == "the head says seq 2 but the last row is seq 3 (rows added behind the store)"


def test_appends_after_tampering_do_not_hide_it(store: Store, db_path: Path) -> None:
    fill(store, 3)
    tamper(db_path, "UPDATE driftctl_audit SET status = 'x' WHERE seq = 2")
    fill(store, 3)
    report = store.verify()
    assert report.checked == 6
    assert report.problems == ("seq 2: MAC does not match its contents (edited, or forged without the key)",)


def test_an_export_verifies_on_its_own(store: Store) -> None:
    fill(store, 4)
    store.append("alert", run_id="r", status="failed", data={"nested": {"z": [1, 2.5, None]}, "ü": "ß"})
    out = io.StringIO()
    assert store.export_jsonl(out) == 5
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert verify_chain(rows, (rows[-1]["seq"], rows[-1]["hash"]), store.keyring).ok
    rows[1]["data"]["n"] = 99
    assert verify_chain(rows, (rows[-1]["seq"], rows[-1]["hash"]), store.keyring).problems == (
        "seq 2: MAC does not match its contents (edited, or forged without the key)",
    )
