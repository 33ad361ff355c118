"""The console output: layout of changes, colours only on request, and nothing that can move the cursor."""

from __future__ import annotations

from collections.abc import Callable

import click

from driftctl.models import SENSITIVE, Alert, AttributeChange, ChangeKind, DetectReport
from driftctl.report import render
from driftctl.report.console import VALUE_WIDTH, compact

MakeReport = Callable[..., DetectReport]
RED = "\x1b[31mError\x1b[0m"


def test_change_lines_show_added_removed_and_modified(make_report: MakeReport) -> None:
    text = render(
        make_report(
            AttributeChange("tags.owner", ChangeKind.ADDED, after="alice"),
            AttributeChange("tags.env", ChangeKind.MODIFIED, before="prod", after="staging"),
            AttributeChange("tags.team", ChangeKind.REMOVED, before="core"),
            AttributeChange("port", ChangeKind.MODIFIED, before=22, after=None),
        ),
        "console",
    )
    assert '+ tags.owner = "alice"' in text
    assert 'tags.env: "prod" → "staging"' in text
    assert '- tags.team = "core"' in text
    assert "port: 22 → null" in text


def test_rich_report_reads_top_to_bottom(rich_report: DetectReport) -> None:
    text = render(rich_report, "console")
    assert "aws_cloudwatch_log_group.app[0]\n              deleted outside Terraform" in text
    assert "password: (sensitive value) → (sensitive value)" in text
    assert "Pending code changes (not drift):" in text
    assert "~ update     module.app.aws_lambda_function.api  (memory_size, timeout)" in text
    assert "1 change silenced by ignore rules" in text
    assert "! ignore-expired: " in text
    assert "  ✗ terraform plan failed: Error: configuring Terraform AWS Provider" in text
    assert text.splitlines()[-1] == (
        "2 workspaces: 1 drift (4 findings: 1 critical, 2 high, 1 info), 1 error"
        " · 1 pending code change · 1 ignored"
    )


def test_clean_summary(clean_report: DetectReport) -> None:
    assert render(clean_report, "console").splitlines()[-1] == "2 workspaces: 2 clean"


def test_values_are_compact_and_truncated() -> None:
    assert compact("prod") == '"prod"'
    assert compact({"b": 1, "a": [True, None]}) == '{"a":[true,null],"b":1}'
    assert compact(SENSITIVE) == SENSITIVE
    long = compact("x" * 500)
    assert len(long) == VALUE_WIDTH and long.endswith("…")
    assert compact("a\nb") == '"a\\nb"'


def test_no_ansi_without_color_even_when_terraform_coloured_its_error(make_report: MakeReport) -> None:
    report = make_report(
        AttributeChange("tags.\x1b[31mx", ChangeKind.MODIFIED, before=RED, after={"k": RED}),
        alerts=(Alert("warning", RED),),
        error=f"terraform plan failed: {RED}\n\x1b]8;;https://x\x07link\x1b]8;;\x07",
    )
    text = render(report, "console", color=False)
    assert "\x1b" not in text
    assert "terraform plan failed: Error" in text


def test_control_characters_are_shown_not_obeyed(make_report: MakeReport) -> None:
    text = render(make_report(AttributeChange("tags.a\x07b\rc", ChangeKind.ADDED, after=1)), "console")
    assert "tags.a\\x07b\\x0dc" in text


def test_color_styles_severities_and_status(rich_report: DetectReport) -> None:
    text = render(rich_report, "console", color=True)
    assert "\x1b[" in text
    assert click.style("CRITICAL", fg="red", bold=True) in text
    assert click.style("HIGH    ", fg="red") in text
    assert click.style("INFO    ", dim=True) in text
    assert click.style("error", fg="red", bold=True) in text
    assert click.unstyle(text) == render(rich_report, "console", color=False)


def test_summary_puts_findings_of_a_failed_workspace_on_the_error(make_report: MakeReport) -> None:
    text = render(make_report(AttributeChange("x", ChangeKind.MODIFIED, 1, 2), error="boom"), "console")
    assert text.splitlines()[-1] == "1 workspace: 1 error (1 finding: 1 medium)"


def test_ledger_carried_drift_says_when_and_by_whom_it_was_absorbed(make_report: MakeReport) -> None:
    import dataclasses

    from driftctl.models import LedgerNote
    from driftctl.report.json import to_document

    report = make_report(
        AttributeChange("visibility_timeout_seconds", ChangeKind.MODIFIED, before=60, after=5)
    )
    (ws,) = report.workspaces
    note = LedgerNote("2026-11-30T10:00:00+00:00", 3, "2026-11-30T11:00:00+00:00", None, "healed 3 time(s)")
    ws = dataclasses.replace(ws, findings=(dataclasses.replace(ws.findings[0], ledger=note),))
    report = dataclasses.replace(report, workspaces=(ws,))
    text = render(report, "console")
    assert (
        "(ledger) absorbed into state at 2026-11-30T11:00:00+00:00 by an unknown apply; "
        "reality still differs from the reviewed code"
    ) in text
    assert "(ledger) flapping: healed 3 time(s)" in text
    (finding,) = to_document(report)["workspaces"][0]["findings"]
    assert finding["ledger"] == {
        "first_seen": "2026-11-30T10:00:00+00:00",
        "times_seen": 3,
        "absorbed_at": "2026-11-30T11:00:00+00:00",
        "absorbed_by": None,
        "flapping": "healed 3 time(s)",
    }
