"""The scenario table and JSON a user reads after `driftctl scenarios run`."""

from __future__ import annotations

import json

from driftctl.report.scenarios import render_scenarios
from driftctl.scenarios.runner import ScenarioResult

RESULTS = [
    ScenarioResult(
        "several-at-once",
        "four changes",
        True,
        detected=("a", "b", "c", "d"),
        decisions=("a: auto_apply → healed", "b: auto_apply → healed", "c: auto_apply → proposed"),
        healed=2,
        expected_healed=2,
        seconds=5.61,
        exit_code=2,
    ),
    ScenarioResult("sg-open-world", "port 22", False, problems=("x: outcome proposed, expected healed",)),
]


def test_the_table_shows_each_scenario_and_why_one_failed() -> None:
    text = render_scenarios(RESULTS, "console")
    lines = text.splitlines()
    assert lines[0].split() == [
        "scenario",
        "detected",
        "decision",
        "→",
        "outcome",
        "healed",
        "seconds",
        "result",
    ]
    row = next(line for line in lines if line.startswith("several-at-once"))
    assert "2 auto_apply → healed, auto_apply → proposed" in row and "2/2" in row and "5.6" in row
    assert row.rstrip().endswith("pass")
    assert next(line for line in lines if line.startswith("sg-open-world")).rstrip().endswith("FAIL")
    assert "sg-open-world: x: outcome proposed, expected healed" in text
    assert text.rstrip().endswith("1/2 scenarios passed")


def test_json_counts_and_keeps_every_field() -> None:
    doc = json.loads(render_scenarios(RESULTS, "json"))
    assert (doc["passed"], doc["failed"], doc["schema_version"]) == (1, 1, "1")
    assert doc["scenarios"][0]["seconds"] == 5.61 and doc["scenarios"][1]["problems"]
