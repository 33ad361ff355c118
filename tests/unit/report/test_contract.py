"""One contract run against every Output: deterministic, order-blind, masks sensitive values, robust."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from driftctl.models import (
    SENSITIVE,
    UNKNOWN,
    Alert,
    AttributeChange,
    ChangeKind,
    DetectReport,
    FindingKind,
)
from driftctl.report import FORMATS, OUTPUTS, Output, render

CANARY = "hunter2-CANARY-7f3a9c"

MakeReport = Callable[..., DetectReport]


@pytest.fixture(params=FORMATS)
def fmt(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _reversed(report: DetectReport) -> DetectReport:
    """The same report with every tuple in the opposite order."""
    return replace(
        report,
        workspaces=tuple(
            replace(
                ws,
                findings=tuple(replace(f, changes=f.changes[::-1]) for f in ws.findings[::-1]),
                pending=ws.pending[::-1],
                ignored=ws.ignored[::-1],
                alerts=ws.alerts[::-1],
            )
            for ws in report.workspaces[::-1]
        ),
    )


def test_every_format_is_an_output() -> None:
    for output in OUTPUTS.values():
        assert isinstance(output, Output)


def test_output_is_deterministic_and_ignores_input_order(fmt: str, rich_report: DetectReport) -> None:
    first = render(rich_report, fmt)
    assert render(rich_report, fmt) == first
    assert render(_reversed(rich_report), fmt) == first


def test_output_ends_with_one_newline_and_no_trailing_spaces(fmt: str, rich_report: DetectReport) -> None:
    text = render(rich_report, fmt)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line == line.rstrip() for line in text.splitlines())


def test_color_only_changes_the_console(fmt: str, rich_report: DetectReport) -> None:
    if fmt == "console":
        assert render(rich_report, fmt, color=True) != render(rich_report, fmt, color=False)
    else:
        assert render(rich_report, fmt, color=True) == render(rich_report, fmt, color=False)


def test_sensitive_change_shows_the_mask(fmt: str, make_report: MakeReport) -> None:
    change = AttributeChange(
        "password", ChangeKind.MODIFIED, before=SENSITIVE, after=SENSITIVE, sensitive=True
    )
    assert SENSITIVE in render(make_report(change), fmt)


def test_value_flagged_sensitive_is_masked_even_if_the_parser_let_it_through(
    fmt: str, make_report: MakeReport
) -> None:
    changes = (
        AttributeChange(
            "password", ChangeKind.MODIFIED, before="old-" + CANARY, after=CANARY, sensitive=True
        ),
        AttributeChange("token", ChangeKind.ADDED, after={"secret": CANARY}, sensitive=True),
    )
    text = render(make_report(*changes), fmt)
    assert CANARY not in text
    assert SENSITIVE in text


def test_a_secret_absent_from_the_report_is_absent_from_every_output(
    fmt: str, rich_report: DetectReport
) -> None:
    for color in (False, True):
        assert CANARY not in render(rich_report, fmt, color=color)


def test_the_clean_report_and_an_empty_report_render(fmt: str, clean_report: DetectReport) -> None:
    assert render(clean_report, fmt)
    assert render(DetectReport(workspaces=()), fmt)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0.1,
        "",
        UNKNOWN,
        "line one\nline two\ttab \x1b[31mred\x1b[0m | pipe ``` fence <b>html</b>",
        {"z": [1, {"b": None, "a": ("t", "u")}], "a": "é✓"},
        "x" * 5000,
    ],
    ids=["null", "bool", "float", "empty", "unknown", "hostile-string", "nested", "huge"],
)
def test_any_plan_value_renders(fmt: str, make_report: MakeReport, value: Any) -> None:
    changes = (
        AttributeChange("a", ChangeKind.ADDED, after=value),
        AttributeChange("m", ChangeKind.MODIFIED, before=value, after=value),
        AttributeChange("r", ChangeKind.REMOVED, before=value),
    )
    assert render(make_report(*changes), fmt)


def test_deleted_resource_and_alerts_render_in_every_format(fmt: str, make_report: MakeReport) -> None:
    report = make_report(
        kind=FindingKind.DELETED, address="aws_s3_bucket.logs", alerts=(Alert("warning", "look here"),)
    )
    text = render(report, fmt)
    assert "aws_s3_bucket.logs" in text
    assert "deleted" in text
    assert "look here" in text
