"""Commands that use the store: read-only ones never create it, and each says which store it uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.audit.store import Store
from driftctl.cli import main

READ_ONLY = [
    ["proposals"],
    ["proposals", "list"],
    ["proposals", "approve", "p-1"],
    ["approve", "p-1"],
    ["reject", "p-1", "--reason", "no"],
    ["apply", "p-1"],
    ["breaker", "status"],
    ["breaker", "reset", "prod"],
    ["audit", "list"],
    ["audit", "show", "1"],
    ["audit", "verify"],
    ["audit", "export"],
    ["runs"],
    ["ledger", "list", "prod"],
    ["ledger", "accept", "prod", "aws_sqs_queue.q", "--reason", "fine"],
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a config, and an empty XDG data home; no database anywhere."""
    (tmp_path / "driftctl.yaml").write_text("version: 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DRIFTCTL_DATABASE_URL", raising=False)
    monkeypatch.delenv("DRIFTCTL_CONFIG", raising=False)
    return tmp_path


@pytest.mark.parametrize("argv", READ_ONLY, ids=" ".join)
def test_read_only_commands_never_create_a_database(home: Path, argv: list[str]) -> None:
    result = CliRunner().invoke(main, argv)
    db = home / ".driftctl" / "driftctl.db"
    assert result.exit_code == 1, result.output
    assert f"no audit trail at {db}" in result.stderr
    assert not (home / ".driftctl").exists() and not (home / "xdg").exists()


@pytest.mark.parametrize("argv", [["audit", "verify"], ["proposals"], ["runs"]], ids=" ".join)
def test_a_missing_sqlite_file_named_by_url_is_not_created_either(home: Path, argv: list[str]) -> None:
    missing = home / "elsewhere" / "d.db"
    result = CliRunner().invoke(main, [*argv, "--database", f"sqlite:///{missing}"])
    assert result.exit_code == 1 and f"no audit trail at {missing}" in result.stderr
    assert not missing.exists()


def test_every_store_command_says_which_store_unless_json(home: Path) -> None:
    db = home / ".driftctl" / "driftctl.db"
    Store.open(db).close()
    runner = CliRunner()
    for argv in (["proposals"], ["audit", "verify"], ["breaker", "status"], ["runs"]):
        result = runner.invoke(main, argv)
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines() == [f"· store: sqlite:///{db}"], argv
        as_json = runner.invoke(main, [*argv, "-o", "json"])
        assert as_json.stderr == "", argv
        json.loads(as_json.stdout)


def test_database_option_and_env_name_the_store(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = home / "shared.db"
    Store(f"sqlite:///{other}").close()
    result = CliRunner().invoke(main, ["proposals", "--database", f"sqlite:///{other}"])
    assert result.exit_code == 0 and f"store: sqlite:///{other}" in result.stderr
    monkeypatch.setenv("DRIFTCTL_DATABASE_URL", f"sqlite:///{other}")
    result = CliRunner().invoke(main, ["breaker", "status"])
    assert result.exit_code == 0 and f"store: sqlite:///{other}" in result.stderr
    assert not (home / ".driftctl").exists()


def test_postgres_without_psycopg_says_how_to_install_it(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what `import psycopg` sees when it is missing
    result = CliRunner().invoke(main, ["audit", "list", "--database", "postgresql://me:hunter2@db/driftctl"])
    assert result.exit_code == 1
    assert "PostgreSQL but psycopg is not installed" in result.stderr
    assert "pip install 'driftctl[postgres]'" in result.stderr
    assert "hunter2" not in result.output


def test_bare_postgres_urls_use_psycopg_3() -> None:
    from driftctl.cli.common import postgres_url

    assert postgres_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert postgres_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert postgres_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    assert postgres_url("sqlite:///x.db") == "sqlite:///x.db"
