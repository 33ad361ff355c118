"""CI controls: --min-severity, --fail-on, --soft-fail; errors are never softened."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from driftctl.cli import main
from driftctl.detect.thresholds import at_least, exit_code
from driftctl.models import DetectReport, Finding, FindingKind, ResourceAddress, Severity, WorkspaceReport

PLANS = Path(__file__).parents[2] / "fixtures" / "plans"
PLAN = str(PLANS / "all_drift_refresh_only.json")  # 10 findings, critical to low


def _report(*severities: Severity, error: str | None = None) -> DetectReport:
    findings = tuple(
        Finding(ResourceAddress(f"aws_s3_bucket.b{i}", "aws_s3_bucket", f"b{i}"), FindingKind.DELETED, (), s)
        for i, s in enumerate(severities)
    )
    return DetectReport((WorkspaceReport("w", findings=findings, error=error),))


def test_fail_on_counts_only_findings_at_or_above_the_level() -> None:
    report = _report(Severity.LOW, Severity.MEDIUM)
    assert exit_code(report) == 2
    assert exit_code(report, fail_on=Severity.MEDIUM) == 2
    assert exit_code(report, fail_on=Severity.HIGH) == 0
    assert exit_code(_report()) == 0


def test_soft_fail_never_hides_an_error() -> None:
    assert exit_code(_report(Severity.CRITICAL), soft_fail=True) == 0
    assert exit_code(_report(Severity.CRITICAL, error="plan failed"), soft_fail=True) == 1


def test_min_severity_drops_lesser_findings_and_says_how_many() -> None:
    report = at_least(_report(Severity.INFO, Severity.LOW, Severity.HIGH), Severity.MEDIUM)
    ws = report.workspaces[0]
    assert [f.severity for f in ws.findings] == [Severity.HIGH]
    assert [(a.kind, a.message) for a in ws.alerts] == [
        ("below-min-severity", "2 finding(s) below medium not shown")
    ]
    clean = at_least(_report(Severity.INFO), Severity.HIGH)
    assert clean.workspaces[0].findings == () and exit_code(clean) == 0


def _detect(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["detect", "-q", "--plan-file", PLAN, *args])
    return result.exit_code, result.stdout


def test_detect_flags_change_the_exit_code_and_the_report() -> None:
    assert _detect("-o", "json")[0] == 2
    assert _detect("-o", "json", "--soft-fail")[0] == 0
    assert _detect("-o", "json", "--fail-on", "critical")[0] == 2  # an SSH port opened to the world
    code, out = _detect("-o", "json", "--min-severity", "critical")
    findings = json.loads(out)["workspaces"][0]["findings"]
    assert code == 2 and {f["severity"] for f in findings} == {"critical"}


def test_color_never_reaches_an_out_file(tmp_path: Path) -> None:
    out = tmp_path / "drift.txt"
    code, _ = _detect("--color", "--out", str(out))
    assert code == 2
    assert "\x1b[" not in out.read_text()
    result = CliRunner().invoke(main, ["detect", "-q", "--plan-file", PLAN, "--color"], color=True)
    assert "\x1b[" in result.stdout  # asked for on stdout: coloured
