"""Every scenario in scenarios/ passes on a real sandbox with the rules drafter.

One reattached sandbox for the module: scenarios restore their own baseline, so they share it. The
scenarios run through `driftctl scenarios run` as a user would, so the table and JSON are tested too.
All of them run without checkov (≈6 s a scan, 90 s for the set); the ones whose decision checkov
could change (a re-created object, several fixes in one run) run again with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftctl.audit.store import Store
from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.sandbox import Sandbox
from driftctl.scenarios.spec import load_scenarios

pytestmark = pytest.mark.slow

SCENARIOS = Path(__file__).parents[2] / "scenarios"


@pytest.fixture(scope="module")
def scenario_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(SandboxLayout(tmp_path_factory.mktemp("scenario-sandbox")))
    sb.up(reattach=True)
    yield sb
    sb.down()


def run_scenarios(sb: Sandbox, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {**os.environ, "DRIFTCTL_SANDBOX_DIR": str(sb.layout.root)}
    run = subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "scenarios", "run", "-o", "json", "-q", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
        check=False,
    )
    return run, json.loads(run.stdout)


def test_scenarios_checkov_could_change_pass_with_checkov(scenario_sandbox: Sandbox) -> None:
    run, doc = run_scenarios(scenario_sandbox, "queue-deleted", "several-at-once")
    failed = {r["name"]: r["problems"] for r in doc["scenarios"] if not r["passed"]}
    assert not failed and run.returncode == 0, failed or run.stderr[-2000:]
    assert [r["healed"] for r in doc["scenarios"]] == [1, 3]


def test_every_scenario_passes(scenario_sandbox: Sandbox, tmp_path: Path) -> None:
    env = {**os.environ, "DRIFTCTL_SANDBOX_DIR": str(scenario_sandbox.layout.root)}
    run = subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "scenarios", "run", "--no-checkov", "-o", "json", "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
        check=False,
    )
    doc = json.loads(run.stdout)
    results = {r["name"]: r for r in doc["scenarios"]}
    (tmp_path / "scenarios.json").write_text(run.stdout)
    failed = {n: r["problems"] for n, r in results.items() if not r["passed"]}
    assert not failed, failed
    assert run.returncode == 0, run.stderr[-2000:]
    assert set(results) == {sf.scenario.name for sf in load_scenarios(SCENARIOS)}
    healed = [r for r in results.values() if r["expected_healed"]]
    assert healed and all(r["healed"] == r["expected_healed"] and r["seconds"] > 0 for r in healed)
    # Each scenario's decisions are in the hash-chained audit of the run, which verifies.
    db = scenario_sandbox.layout.root / ".driftctl-scenarios" / "scenarios.db"
    verify = subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "audit", "verify", "--database", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # propose-mode left a pending revert; the next scenario's run found that drift gone and closed it.
    with Store(f"sqlite:///{db}") as store:
        rows = {r.run_id: r for r in store.proposals() if r.address.endswith("aws_security_group.web")}
    proposed = rows[results["propose-mode"]["run_id"]]
    assert (proposed.status, proposed.reason) == ("superseded", "the drift is gone")


def test_a_failing_expectation_fails_the_run_and_says_why(scenario_sandbox: Sandbox, tmp_path: Path) -> None:
    wrong = tmp_path / "scenarios"
    wrong.mkdir()
    text = (SCENARIOS / "sg-open-world.yaml").read_text().replace("outcome: healed", "outcome: proposed")
    (wrong / "sg-open-world.yaml").write_text(text)
    env = {**os.environ, "DRIFTCTL_SANDBOX_DIR": str(scenario_sandbox.layout.root)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "driftctl.cli",
            "scenarios",
            "run",
            "--scenarios-dir",
            str(wrong),
            "--no-checkov",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert run.returncode == 1
    assert "FAIL" in run.stdout
    assert "outcome healed, expected proposed" in run.stdout
