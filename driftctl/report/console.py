"""The console output: per workspace a header and a severity table of changes, then a summary (no I/O)."""

from __future__ import annotations

import json
from typing import Any

import click

from driftctl.invisible import printable
from driftctl.models import (
    SENSITIVE,
    UNKNOWN,
    AttributeChange,
    ChangeKind,
    DetectReport,
    Finding,
    FindingKind,
    LedgerNote,
    PendingChange,
    Severity,
    WorkspaceReport,
    WorkspaceStatus,
)
from driftctl.report.json import Summary, canonical, summarize
from driftctl.report.leaves import Leaf, finding_leaves

VALUE_WIDTH = 80  # a whole value longer than this is shown leaf by leaf
LEAF_WIDTH = 300  # a single leaf is cut only past this: the value that moved must be readable
_SEVERITY_WIDTH = max(len(s.value) for s in Severity)
_INDENT = "  "
_CHANGE_INDENT = _INDENT + " " * (_SEVERITY_WIDTH + 2) + "  "

_SEVERITY_STYLE: dict[Severity, dict[str, Any]] = {
    Severity.CRITICAL: {"fg": "red", "bold": True},
    Severity.HIGH: {"fg": "red"},
    Severity.MEDIUM: {"fg": "yellow"},
    Severity.LOW: {"fg": "cyan"},
    Severity.INFO: {"dim": True},
}
_STATUS_STYLE: dict[WorkspaceStatus, dict[str, Any]] = {
    WorkspaceStatus.CLEAN: {"fg": "green"},
    WorkspaceStatus.DRIFT: {"fg": "yellow", "bold": True},
    WorkspaceStatus.ERROR: {"fg": "red", "bold": True},
}
# Terraform's own plan symbols, so the pending list reads like `terraform plan`.
_ACTION_LABELS: dict[tuple[str, ...], str] = {
    ("create",): "+ create",
    ("update",): "~ update",
    ("delete",): "- destroy",
    ("delete", "create"): "-/+ replace",
    ("create", "delete"): "+/- replace",
    ("read",): "<= read",
}
_ACTION_WIDTH = max(len(label) for label in _ACTION_LABELS.values())


def plain(text: str) -> str:
    """Text safe to print: escape sequences removed, other control characters shown as `\\xNN`,
    bidi controls and zero-width characters as `\\uXXXX` (see ``driftctl.invisible``)."""
    return printable(text)


def compact(value: Any, width: int = VALUE_WIDTH) -> str:
    """One line for a value: masks as they are, strings quoted, dicts and lists as compact JSON."""
    if isinstance(value, str) and value in (SENSITIVE, UNKNOWN):
        return value
    if isinstance(value, dict):
        # A whole set element (a security group rule) reads best without its unset fields.
        value = {k: v for k, v in value.items() if v not in (None, [], {})}
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def change_line(change: AttributeChange, width: int = VALUE_WIDTH) -> str:
    """`+ path = after`, `- path = before`, or `path: before → after`."""
    path = plain(change.path)
    if change.kind is ChangeKind.ADDED:
        return f"+ {path} = {compact(change.after, width)}"
    if change.kind is ChangeKind.REMOVED:
        return f"- {path} = {compact(change.before, width)}"
    note = f" ({change.note})" if change.note else ""
    return f"{path}: {compact(change.before, width)} → {compact(change.after, width)}{note}"


def leaf_line(leaf: Leaf, width: int = VALUE_WIDTH) -> str:
    """`+ path = after`, `- path = before`, or `path: before → after` for one differing leaf."""
    path = leaf.path or "(whole document)"
    return change_line(AttributeChange(path, leaf.kind, leaf.before, leaf.after), width)


def finding_lines(finding: Finding, width: int = VALUE_WIDTH) -> list[str]:
    """Only the leaves that differ, with full paths; a JSON document's under a header line; then what
    the drift ledger knows (absorbed into state, flapping)."""
    if finding.kind is FindingKind.DELETED:
        return ["deleted outside Terraform", *ledger_lines(finding.ledger)]
    lines: list[str] = []
    document: str | None = None
    for leaf in finding_leaves(finding, width):
        if leaf.document is not None and leaf.document != document:
            lines.append(f"{plain(leaf.document)} (JSON document):")
        document = leaf.document
        lines.append(("  " if leaf.document is not None else "") + leaf_line(leaf, max(width, LEAF_WIDTH)))
    return lines + ledger_lines(finding.ledger)


def ledger_lines(note: LedgerNote | None) -> list[str]:
    """What the drift ledger knows that the plan does not: absorbed drift, flapping."""
    if note is None:
        return []
    lines = []
    if note.absorbed_at is not None:
        by = f"run {note.absorbed_by}" if note.absorbed_by else "an unknown apply"
        lines.append(
            f"(ledger) absorbed into state at {note.absorbed_at} by {by}; "
            "reality still differs from the reviewed code"
        )
    if note.flapping is not None:
        lines.append(f"(ledger) flapping: {plain(note.flapping)}")  # its evidence quotes drifted values
    return lines


def action_label(pending: PendingChange) -> str:
    return _ACTION_LABELS.get(pending.actions, "/".join(pending.actions))


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def severity_counts(by_severity: dict[Severity, int]) -> str:
    """`1 critical, 2 high` — worst first, zeros left out."""
    return ", ".join(f"{n} {sev.value}" for sev, n in by_severity.items() if n)


class _Paint:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, **style: Any) -> str:
        return click.style(text, **style) if self.color else text


def _indented(text: str, first: str, rest: str) -> list[str]:
    lines = plain(text).split("\n")
    return [(first if i == 0 else rest) + line if line else "" for i, line in enumerate(lines)]


def _header(ws: WorkspaceReport, paint: _Paint) -> str:
    counts = []
    if ws.findings:
        counts.append(plural(len(ws.findings), "finding"))
    for n, word in ((len(ws.pending), "pending"), (len(ws.ignored), "ignored")):
        if n:
            counts.append(f"{n} {word}")
    if ws.alerts:
        counts.append(plural(len(ws.alerts), "alert"))
    where = ", ".join(
        part
        for part in (ws.path, f"terraform {ws.terraform_version}" if ws.terraform_version else None)
        if part
    )
    text = paint(plain(ws.workspace), bold=True) + " — " + paint(ws.status.value, **_STATUS_STYLE[ws.status])
    if counts:
        text += ": " + ", ".join(counts)
    return text + (f"  ({plain(where)})" if where else "")


def _workspace(ws: WorkspaceReport, paint: _Paint) -> list[str]:
    lines = [_header(ws, paint)]
    if ws.error is not None:
        lines += _indented(ws.error, _INDENT + paint("✗ ", fg="red", bold=True), _INDENT * 2)
    if ws.findings:
        lines += ["", _INDENT + paint(f"{'SEVERITY':<{_SEVERITY_WIDTH}}  ADDRESS", dim=True)]
        for f in ws.findings:
            label = f"{f.severity.value.upper():<{_SEVERITY_WIDTH}}"
            lines.append(_INDENT + paint(label, **_SEVERITY_STYLE[f.severity]) + "  " + plain(f.address))
            lines += [_CHANGE_INDENT + line for line in finding_lines(f)]
    if ws.pending:
        lines += ["", _INDENT + "Pending code changes (not drift):"]
        for p in ws.pending:
            paths = f"  ({', '.join(plain(x) for x in p.paths)})" if p.paths else ""
            lines.append(_INDENT * 2 + f"{action_label(p):<{_ACTION_WIDTH}}  {plain(p.address)}{paths}")
    if ws.ignored:
        lines += ["", _INDENT + plural(len(ws.ignored), "change") + " silenced by ignore rules"]
    if ws.alerts:
        lines += ["", _INDENT + "Alerts:"]
        for a in ws.alerts:
            lines += _indented(f"{a.kind}: {a.message}", _INDENT * 2 + paint("! ", fg="yellow"), _INDENT * 3)
    return lines


def summary_line(s: Summary) -> str:
    """`2 workspaces: 1 drift (4 findings: 1 critical, 3 high), 1 error · 1 pending code change`."""
    findings = f" ({plural(s.findings, 'finding')}: {severity_counts(s.by_severity)})" if s.findings else ""
    parts = [f"{s.drift} drift{findings}"] if s.drift else []
    if s.error:  # a failed workspace can still carry the findings it got before failing
        parts.append(f"{s.error} error" + ("" if s.drift else findings))
    if s.clean:
        parts.append(f"{s.clean} clean")
    text = plural(s.workspaces, "workspace") + (": " + ", ".join(parts) if parts else "")
    if s.pending:
        text += " · " + plural(s.pending, "pending code change")
    if s.ignored:
        text += f" · {s.ignored} ignored"
    return text


class ConsoleOutput:
    """`--output console`: for people at a terminal; colours only when asked, never ANSI otherwise."""

    def render(self, report: DetectReport, *, color: bool = False) -> str:
        report = canonical(report)
        paint = _Paint(color)
        lines: list[str] = []
        for ws in report.workspaces:
            lines += [*_workspace(ws, paint), ""]
        lines.append(paint(summary_line(summarize(report)), bold=True))
        return "\n".join(lines) + "\n"
