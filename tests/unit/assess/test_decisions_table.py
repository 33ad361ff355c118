"""Table-driven: every captured fix plan, its expected decision and the main reasons (Rego + blast).

The fix is assumed drafted by the rules drafter (confidence 0.9) and verified, in auto mode with the
default thresholds, so the table shows what policy and blast radius alone decide. checkov has its own
tests (it runs out of process and costs ~5 s a scan).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.assess.decide import Gate
from driftctl.assess.engine import AssessOptions, assess_plan
from driftctl.cli import main
from driftctl.models import DecisionKind, Draft, Strategy, Verification

FIXES = Path(__file__).parents[2] / "fixtures" / "fixes"

TABLE = [
    # fixture, decision, a deny/warn rule id that must be among the reasons (or None)
    ("revert_sg_open", DecisionKind.AUTO_APPLY, None),
    ("revert_versioning", DecisionKind.AUTO_APPLY, None),
    ("revert_public_access", DecisionKind.AUTO_APPLY, None),
    ("revert_encryption", DecisionKind.AUTO_APPLY, None),
    ("revert_instance_type", DecisionKind.AUTO_APPLY, "size-change"),
    ("revert_iam_widen", DecisionKind.AUTO_APPLY, None),
    ("revert_queue_deleted", DecisionKind.AUTO_APPLY, None),
    ("revert_log_retention", DecisionKind.AUTO_APPLY, None),
    ("revert_tag", DecisionKind.AUTO_APPLY, None),
    ("heal_all", DecisionKind.PROPOSE, None),  # four changes at once: blast radius over the limit
    ("adopt_sg_open", DecisionKind.BLOCK, "sg-admin-port-open"),
    ("adopt_iam_widen", DecisionKind.BLOCK, "iam-wildcard"),
    ("adopt_versioning", DecisionKind.BLOCK, "s3-versioning-off"),
    ("adopt_public_access", DecisionKind.BLOCK, "s3-public-access-block-off"),
    ("adopt_tag", DecisionKind.AUTO_APPLY, None),
    ("adopt_log_retention", DecisionKind.AUTO_APPLY, None),
    ("code_delete_bucket", DecisionKind.BLOCK, "stateful-delete"),
    ("code_replace_instances", DecisionKind.PROPOSE, "delete"),
]


@pytest.mark.parametrize(("fixture", "expected", "rule"), TABLE, ids=[t[0] for t in TABLE])
def test_fixture_decision(fixture: str, expected: DecisionKind, rule: str | None) -> None:
    plan = json.loads((FIXES / f"{fixture}.json").read_text())
    report = assess_plan(
        plan,
        AssessOptions(checkov=False),
        Gate(mode="auto"),
        source=fixture,
        draft=Draft("x", Strategy.REVERT, "rules", confidence=0.9),
        verification=Verification(True, "verified"),
    )
    assert report.decision.kind is expected, (report.decision, report.assessment.reasons)
    if rule is not None:
        texts = report.assessment.denies + report.assessment.warnings
        assert any(t.startswith(f"[{rule}]") for t in texts), texts
    if expected is DecisionKind.BLOCK:
        assert report.assessment.risk == 1.0
    assert report.assessment.reasons  # every figure comes with reasons


def test_the_table_covers_at_least_fifteen_captured_fixtures() -> None:
    assert len(TABLE) >= 15
    assert {t[0] for t in TABLE} == {p.stem for p in FIXES.glob("*.json")}


def _assess_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["assess", "--no-checkov", *args])
    return result.exit_code, result.stdout, result.stderr


def test_assess_cli_blocks_with_exit_2_and_explains() -> None:
    code, out, _ = _assess_cli("--plan-file", str(FIXES / "adopt_sg_open.json"), "-o", "json")
    data = json.loads(out)
    assert code == 2
    assert data["decision"] == "block" and data["risk"] == 1.0
    assert any("3389" in d for d in data["denies"])
    assert data["confidence"] == 0.5  # no verified draft behind a bare plan file


def test_assess_cli_console_names_reasons() -> None:
    code, out, _ = _assess_cli("--plan-file", str(FIXES / "revert_sg_open.json"))
    assert code == 0
    assert "decision    PROPOSE" in out  # a bare plan file never qualifies for auto-apply
    assert "[blast]" in out and "confidence" in out


def test_a_broken_policy_directory_fails_closed(tmp_path: Path) -> None:
    (tmp_path / "bad.rego").write_text("package driftctl.bad\n\ndeny[msg] { msg := 1 \n")
    code, _, err = _assess_cli("--plan-file", str(FIXES / "revert_tag.json"), "--policies", str(tmp_path))
    assert code == 1
    assert "bad.rego" in err


def test_a_missing_plan_file_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = _assess_cli("--plan-file", str(tmp_path / "nope.json"))
    assert code == 1 and "no such file" in err


def test_assess_console_prints_each_deny_once_and_says_what_it_runs() -> None:
    code, out, err = _assess_cli("--plan-file", str(FIXES / "adopt_sg_open.json"))
    assert code == 2
    assert out.count("newly allows port 3389") == 1  # once, under reasons; the decision points there
    assert "decision    BLOCK\n              1 policy deny(s), listed under reasons\n" in out
    assert err.startswith("· assessing ") and "Rego policies, blast radius" in err
    result = CliRunner().invoke(main, ["assess", "-q", "--plan-file", str(FIXES / "adopt_sg_open.json")])
    assert result.stderr == ""
    with_checkov = CliRunner().invoke(
        main, ["assess", "--policies", "/nonexistent", "--plan-file", str(FIXES / "revert_tag.json")]
    )
    assert "checkov (loading it takes a few seconds)" in with_checkov.stderr  # said before it starts


def test_assess_markdown_is_a_pr_comment() -> None:
    code, out, _ = _assess_cli("--plan-file", str(FIXES / "adopt_sg_open.json"), "-o", "markdown")
    assert code == 2
    assert out.startswith("<!-- driftctl:assess workspace=")
    assert "## driftctl assess: block (risk 1.00, confidence 0.50)" in out
    assert "| rego | deny: \\[sg-admin-port-open\\]" in out
