"""The Markdown output for a pull-request comment: a summary table, then a section per workspace (no I/O)."""

from __future__ import annotations

import re

from driftctl.models import DetectReport, Finding, FindingKind, Severity, WorkspaceReport, WorkspaceStatus
from driftctl.report.console import action_label, finding_lines, plain, plural, severity_counts
from driftctl.report.json import canonical, summarize

# Wider than the console: the details are folded away, and a reviewer wants to see the value.
DETAIL_WIDTH = 300

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


def fenced(lines: list[str]) -> list[str]:
    """A ```text block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *lines, fence]


def _severity(sev: Severity) -> str:
    return f"**{sev.value}**" if sev.rank >= Severity.HIGH.rank else sev.value


def _changed(finding: Finding) -> str:
    if finding.kind is FindingKind.DELETED:
        return "_deleted outside Terraform_"
    return ", ".join(code(c.path) for c in finding.changes)


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


def _workspace(ws: WorkspaceReport) -> list[str]:
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
        detail = [
            line
            for f in ws.findings
            for line in [plain(f.address), *("  " + x for x in finding_lines(f, DETAIL_WIDTH))]
        ]
        lines += _details("Changes in detail", fenced(detail))
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
    """`--output markdown`: a pull-request comment (GitHub-flavoured); long details folded in <details>."""

    def render(self, report: DetectReport, *, color: bool = False) -> str:
        report = canonical(report)
        lines = [_title(report), "", *_summary_table(report)]
        for ws in report.workspaces:
            lines += _workspace(ws)
        footer = [f"driftctl {text(report.driftctl_version)}"] if report.driftctl_version else []
        footer += [f"generated {text(report.generated_at)}"] if report.generated_at else []
        if footer:
            lines.append(f"<sub>{' · '.join(footer)}</sub>")
        return "\n".join(lines).rstrip("\n") + "\n"
