"""The JSON output, the documented stable shape every other format follows in order and counts (no I/O).

``canonical`` and ``summarize`` live here because the JSON document is the reference view of a report:
the other renderers start from the same sorted, masked report and the same counts, so all four formats
agree with each other and with ``docs/detect-output.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import msgspec

from driftctl.models import (
    SENSITIVE,
    AttributeChange,
    DetectReport,
    Finding,
    LedgerNote,
    Severity,
    WorkspaceReport,
    WorkspaceStatus,
)

# Bump only for a breaking change; within one major version the shape only grows (docs/detect-output.md).
SCHEMA_VERSION = "1"

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[str | int, ...], str]:
    """Sort key putting `web[2]` before `web[10]`; digit runs land at odd positions, so it is total."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(text))), text


def _masked(change: AttributeChange) -> AttributeChange:
    # The parser already masks; this makes sure no renderer can ever print a value flagged sensitive.
    if not change.sensitive:
        return change
    return replace(
        change,
        before=None if change.before is None else SENSITIVE,
        after=None if change.after is None else SENSITIVE,
    )


def _finding_key(finding: Finding) -> tuple[int, tuple[tuple[str | int, ...], str]]:
    return (-finding.severity.rank, natural_key(finding.address))


def _canonical_workspace(ws: WorkspaceReport) -> WorkspaceReport:
    findings = tuple(
        replace(
            f,
            changes=tuple(
                sorted((_masked(c) for c in f.changes), key=lambda c: (natural_key(c.path), c.kind.value))
            ),
        )
        for f in sorted(ws.findings, key=_finding_key)
    )
    return replace(
        ws,
        findings=findings,
        pending=tuple(sorted(ws.pending, key=lambda p: natural_key(p.address))),
        ignored=tuple(
            sorted(ws.ignored, key=lambda i: (natural_key(i.address), natural_key(i.path), i.rule))
        ),
        alerts=tuple(sorted(ws.alerts, key=lambda a: (a.kind, a.message))),
    )


def canonical(report: DetectReport) -> DetectReport:
    """The report every renderer draws: everything sorted, every sensitive value masked.

    Workspaces by name; findings by severity (worst first) then address; changes by path; pending by
    address; ignored by address and path; alerts by kind and message. Addresses and paths sort
    naturally (`[2]` before `[10]`).
    """
    workspaces = sorted(report.workspaces, key=lambda w: w.workspace)
    return replace(report, workspaces=tuple(_canonical_workspace(w) for w in workspaces))


@dataclass(frozen=True, slots=True)
class Summary:
    """The counts shown at the top of every format."""

    workspaces: int
    clean: int
    drift: int
    error: int
    findings: int
    by_severity: dict[Severity, int]  # every severity, worst first, zeros included
    pending: int
    ignored: int


def summarize(report: DetectReport) -> Summary:
    statuses = [w.status for w in report.workspaces]
    findings = [f for w in report.workspaces for f in w.findings]
    by_severity = {s: sum(f.severity is s for f in findings) for s in sorted(Severity, key=lambda s: -s.rank)}
    return Summary(
        workspaces=len(statuses),
        clean=statuses.count(WorkspaceStatus.CLEAN),
        drift=statuses.count(WorkspaceStatus.DRIFT),
        error=statuses.count(WorkspaceStatus.ERROR),
        findings=len(findings),
        by_severity=by_severity,
        pending=sum(len(w.pending) for w in report.workspaces),
        ignored=sum(len(w.ignored) for w in report.workspaces),
    )


def _value(value: Any) -> Any:
    """A JSON value with its object keys sorted, so equal values always print alike."""
    if isinstance(value, dict):
        return {str(k): _value(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def _finding(finding: Finding) -> dict[str, Any]:
    r = finding.resource
    return {
        "address": r.address,
        "type": r.type,
        "name": r.name,
        "module": r.module,
        "index": r.index,
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "severity_rule": finding.severity_rule,
        "provider": finding.provider,
        "changes": [_change(c) for c in finding.changes],
        **({"ledger": ledger_document(finding.ledger)} if finding.ledger is not None else {}),
    }


def ledger_document(note: LedgerNote) -> dict[str, Any]:
    """What the drift ledger adds to a finding (``absorbed_at``: no plan shows it, reality has it)."""
    return {
        "first_seen": note.first_seen,
        "times_seen": note.times_seen,
        "absorbed_at": note.absorbed_at,
        "absorbed_by": note.absorbed_by,
        "flapping": note.flapping,
    }


def _change(c: AttributeChange) -> dict[str, Any]:
    out = {
        "path": c.path,
        "kind": c.kind.value,
        "before": _value(c.before),
        "after": _value(c.after),
        "sensitive": c.sensitive,
    }
    if c.note:  # only where the values cannot show the change (a sensitive value that changed)
        out["note"] = c.note
    return out


def _workspace(ws: WorkspaceReport) -> dict[str, Any]:
    return {
        "name": ws.workspace,
        "path": ws.path,
        "status": ws.status.value,
        "terraform_version": ws.terraform_version,
        "duration_s": round(ws.duration_s, 3),
        "error": ws.error,
        "findings": [_finding(f) for f in ws.findings],
        "pending": [
            {
                "address": p.address,
                "type": p.resource.type,
                "actions": list(p.actions),
                "paths": list(p.paths),
            }
            for p in ws.pending
        ],
        "ignored": [{"address": i.address, "path": i.path, "rule": i.rule} for i in ws.ignored],
        "alerts": [{"kind": a.kind, "message": a.message} for a in ws.alerts],
    }


def to_document(report: DetectReport) -> dict[str, Any]:
    """The JSON document as Python data, keys in their documented order."""
    report = canonical(report)
    s = summarize(report)
    return {
        "schema_version": SCHEMA_VERSION,
        "driftctl_version": report.driftctl_version,
        "generated_at": report.generated_at,
        "summary": {
            "workspaces": s.workspaces,
            "clean": s.clean,
            "drift": s.drift,
            "error": s.error,
            "findings": s.findings,
            "by_severity": {sev.value: n for sev, n in s.by_severity.items()},
            "pending": s.pending,
            "ignored": s.ignored,
        },
        "exit_code": report.exit_code,
        "is_sync": report.is_sync,
        "workspaces": [_workspace(w) for w in report.workspaces],
    }


class JsonOutput:
    """`--output json`: the stable, documented document (indent 2, UTF-8, trailing newline)."""

    def render(self, report: DetectReport, *, color: bool = False) -> str:
        # default=str: a value the plan parser let through that JSON cannot hold is shown, not fatal.
        # msgspec encodes in C and formats exactly as json.dumps(indent=2, ensure_ascii=False) does:
        # ~10x faster on a 500-finding report.
        encoded = msgspec.json.encode(to_document(report), enc_hook=str)
        return msgspec.json.format(encoded, indent=2).decode() + "\n"
