"""`driftctl audit` through click's runner: list, show, verify, export, and their exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.audit.store import Store
from driftctl.cli.audit import audit

from .conftest import fill, tamper


@pytest.fixture
def url(store: Store) -> str:
    fill(store, 3)
    store.append("run", run_id="run-2", status="finished", workspace="dev", data={"summary": "all healed"})
    return store.url


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(audit, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_help_explains_the_chain() -> None:
    code, out, _ = _run("--help")
    assert code == 0 and "hash-chained" in out
    for command in ("list", "show", "verify", "export"):
        assert command in out


def test_list_console_is_a_table(url: str) -> None:
    code, out, _ = _run("list", "--database", url)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["SEQ", "TIME", "(UTC)", "WORKSPACE", "KIND", "SUBJECT", "STATUS", "SUMMARY"]
    assert lines[1].startswith("1 ") and "aws_s3_bucket.b0" in lines[1] and "drift 0" in lines[1]
    assert lines[-1].startswith("4 ") and "all healed" in lines[-1]


def test_list_filters_and_json(url: str) -> None:
    code, out, _ = _run("list", "--database", url, "--workspace", "prod", "--limit", "2", "-o", "json")
    assert code == 0
    assert [e["seq"] for e in json.loads(out)] == [2, 3]
    _, out, _ = _run("list", "--database", url, "--kind", "run", "-o", "json")
    assert [e["run_id"] for e in json.loads(out)] == ["run-2"]
    _, out, _ = _run("list", "--database", url, "--run", "nope")
    assert out.strip() == "no audit entries"


def test_show_console_and_json(url: str) -> None:
    code, out, _ = _run("show", "2", "--database", url)
    assert code == 0
    assert "subject:   aws_s3_bucket.b1" in out and '"message": "drift 1"' in out
    _, out, _ = _run("show", "2", "--database", url, "-o", "json")
    assert json.loads(out)["data"] == {"message": "drift 1", "n": 1}
    code, _, err = _run("show", "99", "--database", url)
    assert code == 1 and "error: no audit entry 99" in err


def test_verify_intact(url: str) -> None:
    code, out, _ = _run("verify", "--database", url)
    assert code == 0
    assert out.startswith("audit chain intact: 4 rows, head 4 ")
    code, out, _ = _run("verify", "--database", url, "-o", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["head"]["seq"] == 4


def test_verify_tampered_exits_1_naming_the_seq(url: str, db_path: Path) -> None:
    tamper(db_path, "UPDATE driftctl_audit SET status = 'approved' WHERE seq = 2")
    code, out, _ = _run("verify", "--database", url)
    assert code == 1
    assert (
        "audit chain BROKEN" in out
        and "seq 2: MAC does not match its contents (edited, or forged without the key)" in out
    )
    code, out, _ = _run("verify", "--database", url, "-o", "json")
    assert code == 1 and json.loads(out)["problems"] == [
        "seq 2: MAC does not match its contents (edited, or forged without the key)"
    ]


def test_export_jsonl_to_stdout_and_file(url: str, tmp_path: Path) -> None:
    code, out, _ = _run("export", "--format", "jsonl", "--database", url)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 4
    assert [r["seq"] for r in rows] == [1, 2, 3, 4]
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    target = tmp_path / "out.jsonl"
    code, _, err = _run("export", "--database", url, "--out", str(target))
    assert code == 0 and "wrote 4 entries" in err
    assert target.read_text() == out


def test_database_from_the_environment(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCTL_DATABASE_URL", url)
    code, out, _ = _run("verify")
    assert code == 0 and "4 rows" in out


def test_default_database_sits_next_to_the_config(tmp_path: Path) -> None:
    config = tmp_path / "infra" / "driftctl.yaml"
    config.parent.mkdir()
    config.write_text("version: 1\n")
    db = tmp_path / "infra" / ".driftctl" / "driftctl.db"
    code, out, err = _run("verify", "-c", str(config))
    assert code == 1 and out == ""
    assert f"no audit trail at {db}" in err
    assert not db.exists() and not db.parent.exists()  # a read-only command creates nothing
    Store.open(db).close()
    code, out, err = _run("verify", "-c", str(config))
    assert code == 0 and "0 rows" in out
    assert f"store: sqlite:///{db}" in err


def test_config_found_in_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "driftctl.yaml").write_text("version: 1\n")
    monkeypatch.chdir(tmp_path)
    Store.open(tmp_path / ".driftctl" / "driftctl.db").close()
    code, _, err = _run("list")
    assert code == 0
    assert f"store: sqlite:///{tmp_path / '.driftctl' / 'driftctl.db'}" in err


def test_bad_database_is_an_error_without_the_password() -> None:
    code, out, err = _run("list", "--database", "nonsense://me:hunter2@host/db")
    assert code == 1 and out == ""
    assert err.startswith("error: cannot use database nonsense://me:***@host/db")
    assert "hunter2" not in err


def test_without_a_config_the_database_is_in_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    db = tmp_path / "data" / "driftctl" / "driftctl.db"
    code, _, err = _run("export")
    assert code == 1 and f"no audit trail at {db}" in err
    assert not (tmp_path / "data").exists()
    Store.open(db).close()
    code, _, _ = _run("export")
    assert code == 0
