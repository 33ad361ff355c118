"""The Markdown output: tables that stay tables, code that stays code, prose that cannot inject markup."""

from __future__ import annotations

import re
from collections.abc import Callable

from driftctl.models import Alert, AttributeChange, ChangeKind, DetectReport, IgnoredChange
from driftctl.report import render
from driftctl.report.markdown import code, fenced, text

MakeReport = Callable[..., DetectReport]
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _tables(markdown: str) -> list[list[str]]:
    tables: list[list[str]] = []
    previous_was_row = False
    for line in markdown.splitlines():
        is_row = line.startswith("|")
        if is_row and not previous_was_row:
            tables.append([])
        if is_row:
            tables[-1].append(line)
        previous_was_row = is_row
    return tables


def _assert_tables_keep_their_columns(markdown: str) -> None:
    tables = _tables(markdown)
    assert tables
    for rows in tables:
        widths = {len(UNESCAPED_PIPE.findall(row)) for row in rows}
        assert len(widths) == 1, rows


def test_rich_report_has_summary_sections_and_details(rich_report: DetectReport) -> None:
    md = render(rich_report, "markdown")
    assert md.startswith(
        "<!-- driftctl:report workspace=app-prod,shared-network -->\n"
        "## driftctl: drift in 1 workspace, 1 workspace failed\n"
    )
    assert "| `app-prod` | drift | 4 (1 critical, 2 high, 1 info) | 1 | 1 | 2 |" in md
    assert "### app-prod — drift" in md and "### shared-network — error" in md
    assert "| **critical** | `aws_security_group.web` | `ingress` |" in md
    assert md.count("<details>") == md.count("</details>") == 3
    _assert_tables_keep_their_columns(md)


def test_clean_report_says_so(clean_report: DetectReport) -> None:
    md = render(clean_report, "markdown")
    assert md.splitlines()[1] == "## driftctl: no drift"
    assert "<details>" not in md


def test_pipes_and_backticks_in_values_are_escaped(make_report: MakeReport) -> None:
    report = make_report(
        AttributeChange("tags.a|b", ChangeKind.MODIFIED, before="x|y", after="`z`"),
        AttributeChange("tags.c`d", ChangeKind.ADDED, after="```"),
        ignored=(IgnoredChange("aws_instance.web", "tags.e|f", "rule | with `pipe`"),),
        alerts=(Alert("warning", "a | b"),),
    )
    md = render(report, "markdown")
    _assert_tables_keep_their_columns(md)
    assert r"`tags.a\|b`" in md
    assert "``tags.c`d``" in md
    assert r"rule \| with \`pipe\`" in md
    assert "````diff" in md  # longer than the ``` inside a value, so the block cannot be closed early
    assert r"a \| b" in md


def test_prose_cannot_inject_markup(make_report: MakeReport) -> None:
    md = render(make_report(alerts=(Alert("warning", "<img src=x> [link](http://x) **bold**"),)), "markdown")
    assert r"\<img src=x\> \[link\](http://x) \*\*bold\*\*" in md
    assert not re.search(r"(?<!\\)<img", md)


def test_helpers() -> None:
    assert code("a|b") == r"`a\|b`"
    assert code("a|b", in_table=False) == "`a|b`"
    assert code("`x`") == "`` `x` ``"
    assert text("a_b\nc") == r"a\_b c"
    assert fenced(["x ````` y"]) == ["``````text", "x ````` y", "``````"]
