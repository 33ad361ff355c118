"""The store against a real SQLite file: queries, proposals, breakers, locks, opening and errors."""

from __future__ import annotations

import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import driftctl.audit as audit_pkg
from driftctl.audit.store import Store, StoreError, default_database_path, redact_url
from driftctl.audit.tables import ProposalRow
from driftctl.errors import DriftctlError

from .conftest import fill


def test_public_api_is_pinned() -> None:
    assert sorted(audit_pkg.__all__) == sorted(
        [
            "GENESIS",
            "AuditHead",
            "AuditRow",
            "BreakerRow",
            "ChainReport",
            "Entry",
            "LockRow",
            "ProposalRow",
            "Store",
            "StoreError",
            "canonical",
            "default_database_path",
            "entry_hash",
            "verify_chain",
        ]
    )
    assert issubclass(StoreError, DriftctlError)


# -- the trail --------------------------------------------------------------------------------------


def test_append_returns_the_chained_entry(store: Store) -> None:
    first = store.append("run", run_id="r1", status="started", data={"b": 2, "a": "é"}, workspace="prod")
    second = store.append("run", run_id="r1", status="finished", data={}, workspace="prod", subject="x")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == "0" * 64 and second.prev_hash == first.hash
    assert first.data == {"a": "é", "b": 2}
    assert store.entry(2) == second
    assert store.entry(3) is None
    assert second.to_json()["subject"] == "x"
    assert datetime.fromisoformat(first.ts).tzinfo is not None


def test_unknown_kind_is_a_bug(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown audit kind"):
        store.append("nonsense", run_id="r", status="x", data={})


def test_entries_filter_order_and_limit(store: Store) -> None:
    fill(store, 3, workspace="prod")
    fill(store, 2, workspace="dev")
    store.append("run", run_id="run-2", status="finished", data={})
    assert [e.seq for e in store.entries(workspace="dev")] == [4, 5]
    assert [e.seq for e in store.entries(kind="run")] == [6]
    assert [e.seq for e in store.entries(run_id="run-1", after_seq=2)] == [3, 4, 5]
    assert [e.seq for e in store.entries(limit=2, newest_first=True)] == [6, 5]
    assert [e.seq for e in store.entries(subject="aws_s3_bucket.b1")] == [2, 5]
    assert store.entries(status="approved") == []


def test_dangling_actions_are_started_without_a_closer(store: Store) -> None:
    def act(status: str, ws: str = "prod", **data: object) -> int:
        return store.append("action", run_id="r", status=status, workspace=ws, data=data).seq

    done = act("started", address="a")
    act("finished", started_seq=done)
    failed = act("started", address="b")
    act("failed", started_seq=failed, error="boom")
    open_one = act("started", address="c")
    act("started", ws="dev", address="d")
    interrupted = act("started", address="e")
    act("interrupted", started_seq=interrupted)
    open_two = act("started", address="f")
    assert [e.seq for e in store.dangling_actions("prod")] == [open_one, open_two]
    assert [e.data["address"] for e in store.dangling_actions("dev")] == ["d"]
    assert store.dangling_actions("nowhere") == []


def test_count_entries_since_and_where(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    for auto in (True, True, False):
        store.append("action", run_id="r", status="finished", workspace="prod", data={"auto": auto})
    store.append("action", run_id="r", status="failed", workspace="prod", data={"auto": True})
    store.append("action", run_id="r", status="finished", workspace="dev", data={"auto": True})
    count = store.count_entries
    assert count("action", workspace="prod", status="finished", since=before) == 3
    assert count("action", workspace="prod", status="finished", since=before, where={"auto": True}) == 2
    assert count("action", workspace="prod", status="finished", since=before, where={"other": 1}) == 0
    assert count("action", workspace="prod", status="finished", since=datetime.now(UTC)) == 0
    naive_hour_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    assert count("action", workspace="dev", status="finished", since=naive_hour_ago) == 1


def test_export_writes_one_line_per_entry(store: Store, tmp_path: Path) -> None:
    fill(store, 3)
    out = tmp_path / "audit.jsonl"
    with out.open("w") as fh:
        assert store.export_jsonl(fh) == 3
    assert len(out.read_text().splitlines()) == 3


# -- proposals --------------------------------------------------------------------------------------


def _proposal(store: Store, pid: str | None = None, **fields: object) -> ProposalRow:
    row = ProposalRow(
        id=pid or store.new_proposal_id(),
        run_id="r1",
        workspace=str(fields.pop("workspace", "prod")),
        address=str(fields.pop("address", "aws_s3_bucket.logs")),
        strategy="revert",
        **fields,  # type: ignore[arg-type]
    )
    return store.save_proposal(row)


def test_proposal_ids_are_12_hex() -> None:
    pid = Store.new_proposal_id()
    assert len(pid) == 12 and int(pid, 16) >= 0


def test_save_read_and_update_a_proposal(store: Store) -> None:
    saved = _proposal(store, "0123456789ab", risk=0.2, summary="revert tags", data='{"diff": "-a +b"}')
    got = store.proposal("0123456789ab")
    assert got.risk == 0.2 and got.summary == "revert tags" and got.status == "pending"
    assert store.proposal("0123").id == saved.id
    time.sleep(0.001)
    updated = store.update_proposal(saved.id, status="approved", approved_by="alice")
    assert (updated.status, updated.approved_by) == ("approved", "alice")
    assert updated.updated_at > saved.updated_at
    assert store.proposal(saved.id).status == "approved"
    # save replaces as a whole
    _proposal(store, saved.id, status="applied")
    assert store.proposal(saved.id).status == "applied"
    assert len(store.proposals()) == 1


def test_proposal_lookup_errors(store: Store) -> None:
    _proposal(store, "abcd11111111")
    _proposal(store, "abcd22222222")
    with pytest.raises(StoreError, match="proposal prefix abcd is ambiguous: abcd11111111, abcd22222222"):
        store.proposal("abcd")
    assert store.proposal("ABCD1").id == "abcd11111111"
    with pytest.raises(StoreError, match=r"no proposal abc$"):
        store.proposal("abc")
    with pytest.raises(StoreError, match="no proposal ffff"):
        store.proposal("ffff")
    with pytest.raises(StoreError, match="no proposal ffffffffffff"):
        store.update_proposal("ffffffffffff", status="rejected")
    with pytest.raises(TypeError, match="colour"):
        store.update_proposal("abcd11111111", colour="red")
    with pytest.raises(TypeError, match="id"):
        store.update_proposal("abcd11111111", id="x")


def test_proposal_listing_and_open_ones(store: Store) -> None:
    old = _proposal(store, created_at="2025-01-01T00:00:00.000000+00:00")
    new = _proposal(store, created_at="2025-02-01T00:00:00.000000+00:00", status="needs_human")
    _proposal(store, address="other.addr")
    _proposal(store, workspace="dev")
    for status in ("rejected", "applied", "stale", "superseded", "blocked", "approved"):
        _proposal(store, status=status, created_at="2024-01-01T00:00:00.000000+00:00")
    listed = store.proposals(workspace="prod")
    assert listed[-1].status in {"rejected", "applied", "stale", "superseded", "blocked", "approved"}
    assert [p.id for p in listed].index(new.id) < [p.id for p in listed].index(old.id)
    assert [p.id for p in store.proposals(status="needs_human")] == [new.id]
    open_ones = store.open_proposals("prod", "aws_s3_bucket.logs")
    assert sorted(p.status for p in open_ones) == ["approved", "blocked", "needs_human", "pending"]


# -- breakers ---------------------------------------------------------------------------------------


def test_breaker_opens_at_the_threshold_and_resets(store: Store) -> None:
    assert not store.breaker("prod").open and store.breaker("prod").failures == 0
    store.record_heal("prod", False, 3)
    row = store.record_heal("prod", False, 3)
    assert (row.failures, row.open) == (2, False)
    store.record_heal("prod", True, 3)
    assert store.breaker("prod").failures == 0
    for _ in range(3):
        row = store.record_heal("prod", False, 3, reason="apply failed")
    assert row.open and row.failures == 3 and row.opened_at is not None
    assert row.reason == "3 failed heals in a row (threshold 3); last: apply failed"
    opened_at = row.opened_at
    assert store.record_heal("prod", False, 3).opened_at == opened_at
    after_success = store.record_heal("prod", True, 3)
    assert after_success.open and after_success.failures == 0  # closing is reset_breaker's job
    store.record_heal("dev", False, 5)
    assert [b.workspace for b in store.breakers()] == ["dev", "prod"]
    reset = store.reset_breaker("prod")
    assert (reset.open, reset.failures, reset.opened_at, reset.reason) == (False, 0, None, None)
    assert not store.breaker("prod").open
    assert not store.reset_breaker("never-seen").open


# -- workspace locks --------------------------------------------------------------------------------


def test_lock_two_holders_refresh_and_unlock(store: Store) -> None:
    assert store.lock_holder("prod") is None
    assert store.try_lock("prod", "alice", 60)
    first = store.lock_holder("prod")
    assert first is not None and first.holder == "alice"
    assert not store.try_lock("prod", "bob", 60)
    time.sleep(0.01)
    assert store.try_lock("prod", "alice", 120)
    refreshed = store.lock_holder("prod")
    assert refreshed is not None
    assert refreshed.expires_at > first.expires_at and refreshed.acquired_at == first.acquired_at
    assert store.try_lock("dev", "bob", 60)  # locks are per workspace
    assert not store.unlock("prod", "bob")
    assert store.unlock("prod", "alice")
    assert store.lock_holder("prod") is None
    assert not store.unlock("prod", "alice")  # a missing lock is not an error
    assert store.try_lock("prod", "bob", 60)


def test_an_expired_lock_is_taken_over(store: Store) -> None:
    # A TTL long enough that a loaded machine still asks again before it runs out (0.05 s did not).
    assert store.try_lock("prod", "alice", 2.0)
    assert not store.try_lock("prod", "bob", 60)
    time.sleep(2.1)
    assert store.try_lock("prod", "bob", 60)
    holder = store.lock_holder("prod")
    assert holder is not None and holder.holder == "bob"
    assert not store.try_lock("prod", "alice", 60)


# -- opening ----------------------------------------------------------------------------------------


def test_open_defaults_to_sqlite_in_a_private_dir(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / ".driftctl" / "driftctl.db"
    with Store.open(path) as store:
        store.append("run", run_id="r", status="started", data={})
        assert store.display_url == f"sqlite:///{path}"
    assert path.is_file()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_open_prefers_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCTL_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    with Store.open(tmp_path / "unused" / "x.db") as store:
        store.append("run", run_id="r", status="started", data={})
    assert (tmp_path / "env.db").is_file()
    assert not (tmp_path / "unused").exists()


def test_sqlite_uses_wal(store: Store, db_path: Path) -> None:
    import sqlite3

    fill(store, 1)
    assert sqlite3.connect(db_path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_default_database_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "infra" / "driftctl.yaml"
    assert default_database_path(config) == tmp_path / "infra" / ".driftctl" / "driftctl.db"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_database_path(None) == tmp_path / "data" / "driftctl" / "driftctl.db"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_database_path(None) == tmp_path / "home" / ".local" / "share" / "driftctl" / "driftctl.db"


def test_passwords_never_reach_messages(tmp_path: Path) -> None:
    assert (
        redact_url("postgresql://user:s3cret@db.example:5432/x") == "postgresql://user:***@db.example:5432/x"
    )
    for url in ("nonsense://user:s3cret@host/db", "postgresql+nodriver://user:s3cret@host/db"):
        with pytest.raises(StoreError) as info:
            Store(url)
        assert "s3cret" not in info.value.render() and "***" in info.value.message


def test_unreachable_database_names_the_url_and_problem(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    expected = r"missing-dir/x\.db: cannot create the driftctl tables: unable to open"
    with pytest.raises(StoreError, match=expected):
        Store(url)
