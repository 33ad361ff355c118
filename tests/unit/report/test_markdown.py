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


def _many_findings(n: int) -> DetectReport:
    from driftctl.models import Finding, FindingKind, ResourceAddress, Severity, WorkspaceReport

    findings = tuple(
        Finding(
            ResourceAddress(f"module.app.aws_s3_bucket.b{i:03}", "aws_s3_bucket", f"b{i:03}", "module.app"),
            FindingKind.CHANGED,
            (
                AttributeChange("tags.owner", ChangeKind.MODIFIED, before="platform-team", after="x" * 60),
                AttributeChange("versioning[0].enabled", ChangeKind.MODIFIED, before=True, after=False),
            ),
            Severity.HIGH if i % 7 == 0 else Severity.LOW,
        )
        for i in range(n)
    )
    return DetectReport((WorkspaceReport("prod", "envs/prod", findings=findings),))


def test_a_huge_report_is_capped_under_githubs_comment_limit() -> None:
    report = _many_findings(500)
    md = render(report, "markdown")
    assert len(md) <= 65_536
    omitted = re.search(r"_… (\d+) more findings omitted to fit a comment", md)
    assert omitted is not None
    shown = md.count("| `module.app.aws_s3_bucket.b")
    assert shown + int(omitted.group(1)) == 500 and shown > 100
    assert md.count("| **high** |") == sum(1 for i in range(500) if i % 7 == 0)  # worst first: all kept
    assert md.startswith("<!-- driftctl:report workspace=prod -->\n")
    assert md.count("<details>") == md.count("</details>")
    _assert_tables_keep_their_columns(md)


def test_a_report_that_fits_is_not_capped() -> None:
    md = render(_many_findings(20), "markdown")
    assert "omitted" not in md and md.count("| `module.app.aws_s3_bucket.b") == 20


def test_changed_paths_cell_names_each_path_once() -> None:
    from driftctl.models import Finding, FindingKind, ResourceAddress, WorkspaceReport

    rule = {"a": 1}
    finding = Finding(
        ResourceAddress("aws_security_group.web", "aws_security_group", "web"),
        FindingKind.CHANGED,
        (
            AttributeChange("ingress", ChangeKind.REMOVED, before=rule),
            AttributeChange("ingress", ChangeKind.ADDED, after={"a": 2}),
            AttributeChange("tags.x", ChangeKind.ADDED, after="y"),
        ),
    )
    md = render(DetectReport((WorkspaceReport("w", findings=(finding,)),)), "markdown")
    assert "| `aws_security_group.web` | `ingress`, `tags.x` |" in md


def test_marker_names_every_workspace_and_cannot_close_the_comment() -> None:
    from driftctl.report.markdown import marker

    assert marker("report", ["a", "b c", "x-->y"]) == "<!-- driftctl:report workspace=a,b%20c,x--%3Ey -->"
