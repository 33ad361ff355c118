"""The Markdown output for a pull-request comment: a summary table, then a section per workspace (no I/O)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from urllib.parse import quote

from driftctl.models import (
    HIDDEN_CHANGE_NOTE,
    ChangeKind,
    DetectReport,
    Finding,
    FindingKind,
    Severity,
    WorkspaceReport,
    WorkspaceStatus,
)
from driftctl.report.console import action_label, compact, plain, plural, severity_counts
from driftctl.report.json import canonical, summarize
from driftctl.report.leaves import changed_paths, finding_leaves

# Wider than the console: the details are folded away, and a reviewer wants to see the value.
DETAIL_WIDTH = 300
# GitHub rejects a comment body over 65,536 characters; stay under it with room for a note.
MAX_CHARS = 65_000

_ACTIVE = re.compile(r"([\\`*_\[\]<>|~&])")
_BACKTICKS = re.compile(r"`+")


def text(value: str) -> str:
    """Prose safe anywhere, table cells included: Markdown and HTML punctuation escaped, one line."""
    return _ACTIVE.sub(r"\\\1", plain(value).replace("\n", " "))


def code(value: str, *, in_table: bool = True) -> str:
    """An inline code span that survives backticks in ``value`` and, in a table, `|`."""
    value = plain(value).replace("\n", " ")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    span = f"{fence}{pad}{value}{pad}{fence}"
    # GFM splits table cells on `|` before it parses code spans, so even a `|` inside one needs escaping.
    return span.replace("|", r"\|") if in_table else span


def fenced(lines: list[str], lang: str = "text") -> list[str]:
    """A ```text (or ``lang``) block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + lang, *lines, fence]


def marker(kind: str, workspaces: Iterable[str]) -> str:
    """The hidden first line a forge finds to update its comment in place instead of adding one."""
    names = ",".join(quote(w, safe="._/:@+") for w in workspaces)
    return f"<!-- driftctl:{kind} workspace={names} -->"


def cap(lines: list[str], limit: int = MAX_CHARS) -> list[str]:
    """``lines`` cut (at a line) to fit ``limit`` characters, with a note saying how much was left out."""
    total = 0
    for i, line in enumerate(lines):
        total += len(line) + 1
        if total > limit - 200:
            rest = len(lines) - i
            note = f"_… {rest} more lines omitted (GitHub caps a comment at 65,536 characters)_"
            return [*lines[:i], "", note]
    return lines


def diff_lines(finding: Finding) -> list[str]:
    """A finding as a ```diff hunk: the address as context, each differing leaf as `-` before, `+` after."""
    lines = [" " + plain(finding.address)]
    if finding.kind is FindingKind.DELETED:
        return [*lines, "-   (deleted outside Terraform)"]
    document: str | None = None
    for leaf in finding_leaves(finding, DETAIL_WIDTH):
        indent = "   "
        if leaf.document is not None:
            if leaf.document != document:
                lines.append(f"   {plain(leaf.document)} (JSON document):")
            indent = "     "
        document = leaf.document
        path = plain(leaf.path or "(whole document)")
        if leaf.kind is not ChangeKind.ADDED:
            lines.append(f"-{indent}{path} = {compact(leaf.before, DETAIL_WIDTH)}")
        if leaf.kind is not ChangeKind.REMOVED:
            # A masked value that changed reads the same on both lines: say so.
            hidden = leaf.kind is ChangeKind.MODIFIED and leaf.before == leaf.after
            note = f" ({HIDDEN_CHANGE_NOTE})" if hidden else ""
            lines.append(f"+{indent}{path} = {compact(leaf.after, DETAIL_WIDTH)}{note}")
    return lines


def _severity(sev: Severity) -> str:
    return f"**{sev.value}**" if sev.rank >= Severity.HIGH.rank else sev.value


def _changed(finding: Finding) -> str:
    if finding.kind is FindingKind.DELETED:
        return "_deleted outside Terraform_"
    return ", ".join(code(path) for path in changed_paths(finding))


def _details(summary: str, body: list[str]) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _findings_cell(ws: WorkspaceReport) -> str:
    if ws.status is WorkspaceStatus.ERROR and not ws.findings:
        return "—"
    counts = severity_counts({s: sum(f.severity is s for f in ws.findings) for s in Severity})
    return f"{len(ws.findings)} ({counts})" if counts else "0"


def _summary_table(report: DetectReport) -> list[str]:
    lines = [
        "| Workspace | Status | Findings | Pending | Ignored | Alerts |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for ws in report.workspaces:
        status = f"**{ws.status.value}**" if ws.status is WorkspaceStatus.ERROR else ws.status.value
        lines.append(
            f"| {code(ws.workspace)} | {status} | {_findings_cell(ws)} | {len(ws.pending)} "
            f"| {len(ws.ignored)} | {len(ws.alerts)} |"
        )
    return [*lines, ""]


def _workspace(ws: WorkspaceReport, omitted: int = 0) -> list[str]:
    lines = [f"### {text(ws.workspace)} — {ws.status.value}", ""]
    where = [code(ws.path, in_table=False)] if ws.path else []
    where += [f"Terraform {text(ws.terraform_version)}"] if ws.terraform_version else []
    if where:
        lines += [" · ".join(where), ""]
    if ws.error is not None:
        lines += ["**Terraform failed:**", "", *fenced(plain(ws.error).split("\n")), ""]
    if ws.findings:
        lines += ["| Severity | Address | Changed paths |", "| --- | --- | --- |"]
        lines += [f"| {_severity(f.severity)} | {code(f.address)} | {_changed(f)} |" for f in ws.findings]
        lines.append("")
        if omitted:
            lines += [
                f"_… {plural(omitted, 'more finding')} omitted to fit a comment: "
                "`driftctl detect -o json` has them all._",
                "",
            ]
        detail = [line for f in ws.findings for line in diff_lines(f)]
        lines += _details("Changes in detail", fenced(detail, "diff"))
    elif omitted:
        lines += [f"_{plural(omitted, 'finding')} omitted to fit a comment: `driftctl detect -o json`._", ""]
    elif ws.status is WorkspaceStatus.CLEAN:
        lines += ["No drift: reality matches the Terraform state.", ""]
    if ws.pending:
        rows = ["| Action | Address | Paths |", "| --- | --- | --- |"]
        rows += [
            f"| {code(action_label(p))} | {code(p.address)} | {', '.join(code(x) for x in p.paths)} |"
            for p in ws.pending
        ]
        lines += _details(f"Pending code changes, not drift ({len(ws.pending)})", rows)
    if ws.ignored:
        rows = ["| Address | Path | Rule |", "| --- | --- | --- |"]
        rows += [f"| {code(i.address)} | {code(i.path)} | {text(i.rule)} |" for i in ws.ignored]
        lines += _details(f"Ignored changes ({len(ws.ignored)})", rows)
    if ws.alerts:
        lines += ["**Alerts**", "", *(f"- **{text(a.kind)}**: {text(a.message)}" for a in ws.alerts), ""]
    return lines


def _title(report: DetectReport) -> str:
    s = summarize(report)
    parts = [f"drift in {plural(s.drift, 'workspace')}"] if s.drift else []
    parts += [f"{plural(s.error, 'workspace')} failed"] if s.error else []
    return "## driftctl: " + (", ".join(parts) if parts else "no drift")


class MarkdownOutput:
    """`--output markdown`: a pull-request comment (GitHub-flavoured); long details folded in <details>.

    It starts with a hidden marker (`marker`) so a bot can update its comment in place, and stays under
    GitHub's 65,536-character limit: findings past what fits are counted as omitted (worst first kept).
    """

    def render(self, report: DetectReport, *, color: bool = False) -> str:
        report = canonical(report)
        total = sum(len(ws.findings) for ws in report.workspaces)
        full = self._render(report, total)
        if len(full) <= MAX_CHARS:
            return full
        low, high = 0, total - 1  # the largest number of findings shown that still fits
        while low < high:
            mid = (low + high + 1) // 2
            if len(self._render(report, mid)) <= MAX_CHARS:
                low = mid
            else:
                high = mid - 1
        # Even with no finding shown a report can be too long (huge errors, pending lists): cut it.
        return "\n".join(cap(self._render(report, low).rstrip("\n").split("\n"))) + "\n"

    def _render(self, report: DetectReport, shown: int) -> str:
        lines = [marker("report", (ws.workspace for ws in report.workspaces)), _title(report), ""]
        lines += _summary_table(report)
        budget = shown
        for ws in report.workspaces:
            keep = ws.findings[: max(budget, 0)]
            budget -= len(keep)
            lines += _workspace(dataclasses.replace(ws, findings=keep), len(ws.findings) - len(keep))
        footer = [f"driftctl {text(report.driftctl_version)}"] if report.driftctl_version else []
        footer += [f"generated {text(report.generated_at)}"] if report.generated_at else []
        if footer:
            lines.append(f"<sub>{' · '.join(footer)}</sub>")
        return "\n".join(lines).rstrip("\n") + "\n"
