"""History: `audit list --since/--until` and `driftctl runs` (one line per run), on a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.audit.store import Store
from driftctl.cli import main
from driftctl.cli.since import parse_when
from driftctl.errors import DriftctlError

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Two finished runs a day apart and one that never finished, with the times set explicitly."""
    monkeypatch.delenv("DRIFTCTL_DATABASE_URL", raising=False)
    path = tmp_path / "d.db"
    with Store(f"sqlite:///{path}") as store:
        for run, ws, outcomes in (
            ("run-a", ["prod"], {"prod": ["aws_s3_bucket.a: healed", "aws_security_group.w: proposed"]}),
            ("run-b", ["prod", "dev"], {"prod": ["aws_iam_role.r: heal_failed"], "dev": []}),
        ):
            store.append("run", run_id=run, status="started", data={"mode": "auto", "workspaces": ws})
            store.append("finding", run_id=run, status="open", data={}, workspace="prod")
            statuses = {w: ("error" if w == "dev" else "drift") for w in ws}
            store.append(
                "run",
                run_id=run,
                status="finished",
                data={"exit_code": 2, "workspaces": statuses, "outcomes": outcomes},
            )
        store.append("run", run_id="run-c", status="started", data={"mode": "propose", "workspaces": ["dev"]})
    days = {"run-a": "2026-11-28", "run-b": "2026-11-29", "run-c": "2026-11-30"}
    conn = sqlite3.connect(path)
    with conn:
        for run, day in days.items():
            ts = f"{day}T08:00:00.000000+00:00"
            conn.execute("UPDATE driftctl_audit SET ts = ? WHERE run_id = ?", (ts, run))
    conn.close()
    return f"sqlite:///{path}"


def _run(*argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(argv))
    return result.exit_code, result.stdout, result.stderr


def test_runs_prints_one_line_per_run(db: str) -> None:
    code, out, _ = _run("runs", "--database", db)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2026-11-28 08:00:00  run-a  auto")
    assert "prod  2 findings: 1 healed, 1 proposed, 0 failed  (exit 2)" in lines[0]
    assert "prod,dev  1 findings: 0 healed, 0 proposed, 2 failed" in lines[1]  # a failed heal + an error
    assert lines[2].endswith("dev  (did not finish)")


def test_runs_json_and_window(db: str) -> None:
    code, out, _ = _run(
        "runs", "--database", db, "-o", "json", "--since", "2026-11-29", "--until", "2026-11-30"
    )
    assert code == 0
    runs = json.loads(out)
    assert [r["run_id"] for r in runs] == ["run-b"]
    assert runs[0]["workspaces"] == ["prod", "dev"] and runs[0]["failed"] == 2
    code, out, _ = _run("runs", "--database", db, "--workspace", "dev", "-o", "json")
    assert [r["run_id"] for r in json.loads(out)] == ["run-b", "run-c"]


def test_audit_list_since_and_until(db: str) -> None:
    def seqs(*window: str) -> list[str]:
        code, out, err = _run("audit", "list", "--database", db, "-o", "json", *window)
        assert code == 0, err
        return [e["run_id"] for e in json.loads(out)]

    assert seqs() == ["run-a"] * 3 + ["run-b"] * 3 + ["run-c"]
    assert seqs("--since", "2026-11-29T00:00:00Z") == ["run-b"] * 3 + ["run-c"]
    assert seqs("--until", "2026-11-29") == ["run-a"] * 3
    assert seqs("--since", "2026-11-29", "--until", "2026-11-29T08:00:00Z") == []  # until is exclusive
    assert seqs("--since", "3650d") == seqs()


def test_a_bad_time_is_a_clear_error(db: str) -> None:
    code, _, err = _run("audit", "list", "--database", db, "--since", "yesterday")
    assert code == 1
    assert "--since 'yesterday' is neither an ISO 8601 time nor a duration" in err


def test_parse_when_relative_and_absolute() -> None:
    clock = lambda: NOW  # noqa: E731
    assert parse_when("24h", "--since", clock) == datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_when("7d", "--since", clock) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert parse_when("30m", "--since", clock) == datetime(2026, 11, 30, 11, 30, tzinfo=UTC)
    assert parse_when("2026-11-01", "--since") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_when("2026-11-01T10:00:00+02:00", "--since") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert parse_when(None, "--since") is None
    with pytest.raises(DriftctlError):
        parse_when("1y", "--since")
