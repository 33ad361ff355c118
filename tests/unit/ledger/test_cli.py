"""`driftctl ledger list|accept|ignore` through the CLI runner, on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.audit.store import Store
from driftctl.cli import main
from driftctl.detect.engine import Target
from driftctl.detect.findings import detect_plan
from driftctl.ledger.ledger import DriftLedger
from tests.unit.ledger.plans import QUEUE, plan, queue


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "driftctl.db"
    monkeypatch.setenv("DRIFTCTL_DATABASE_URL", f"sqlite:///{db}")
    path = tmp_path / "driftctl.yaml"
    path.write_text("version: 1\nworkspaces:\n  - {name: ws, path: .}\n")
    drifted = plan(state=queue(60), reality=queue(5), code=queue(60))
    with Store(f"sqlite:///{db}") as store:
        DriftLedger(store, run_id="r1").merge(
            Target(name="ws", path=tmp_path), drifted, *detect_plan(drifted)
        )
    return path


def test_list_then_accept_closes_the_item_with_who_and_why(config: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["ledger", "list", "ws", "-c", str(config), "-o", "json"])
    assert listed.exit_code == 0, listed.output
    (item,) = json.loads(listed.stdout)
    assert (item["address"], item["status"], item["changes"][0]["after"]) == (QUEUE, "open", 5)

    text = runner.invoke(main, ["ledger", "list", "ws", "-c", str(config)])
    assert "visibility_timeout_seconds: 60 → 5" in text.stdout

    accepted = runner.invoke(
        main, ["ledger", "accept", "ws", QUEUE, "-c", str(config), "--by", "alice", "--reason", "load test"]
    )
    assert accepted.exit_code == 0, accepted.output
    assert "accepted by alice (load test)" in accepted.stdout
    assert runner.invoke(main, ["ledger", "list", "ws", "-c", str(config)]).stdout.startswith("no open drift")
    history = json.loads(
        runner.invoke(main, ["ledger", "list", "ws", "--all", "-c", str(config), "-o", "json"]).stdout
    )
    assert [(h["status"], h["closed_by"], h["reason"]) for h in history] == [
        ("accepted", "alice", "load test")
    ]


def test_closing_what_is_not_open_is_a_clear_error(config: Path) -> None:
    result = CliRunner().invoke(
        main, ["ledger", "ignore", "ws", "aws_s3_bucket.nope", "-c", str(config), "--reason", "x"]
    )
    assert result.exit_code == 1
    assert "no open drift for aws_s3_bucket.nope in workspace ws" in result.output
    assert "Traceback" not in result.output
