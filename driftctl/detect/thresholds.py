"""CI controls over a detect report: a severity floor for what is reported, and for what fails (no I/O).

Like tfsec's and checkov's: ``--min-severity`` leaves findings below a level out of the report (they
are counted in an alert, so nothing vanishes silently), ``--fail-on`` makes only findings at or above a
level exit 2, and ``--soft-fail`` reports drift and exits 0. An error (a Terraform run that failed) is
never softened: it exits 1 whatever the flags say.
"""

from __future__ import annotations

import dataclasses

from driftctl.errors import EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR
from driftctl.models import Alert, DetectReport, Severity, WorkspaceStatus

SEVERITY_CHOICES = tuple(s.value for s in sorted(Severity, key=lambda s: s.rank))  # info … critical


def at_least(report: DetectReport, floor: Severity) -> DetectReport:
    """``report`` without findings below ``floor``; each workspace says how many it left out."""
    workspaces = []
    for ws in report.workspaces:
        kept = tuple(f for f in ws.findings if f.severity.rank >= floor.rank)
        dropped = len(ws.findings) - len(kept)
        if dropped:
            note = Alert("below-min-severity", f"{dropped} finding(s) below {floor.value} not shown")
            ws = dataclasses.replace(ws, findings=kept, alerts=(*ws.alerts, note))
        workspaces.append(ws)
    return dataclasses.replace(report, workspaces=tuple(workspaces))


def exit_code(report: DetectReport, *, fail_on: Severity = Severity.INFO, soft_fail: bool = False) -> int:
    """1 on any error; else 2 if a finding reaches ``fail_on`` (and not ``soft_fail``); else 0."""
    if any(ws.status is WorkspaceStatus.ERROR for ws in report.workspaces):
        return EXIT_ERROR
    if soft_fail:
        return EXIT_CLEAN
    failing = any(f.severity.rank >= fail_on.rank for ws in report.workspaces for f in ws.findings)
    return EXIT_DRIFT if failing else EXIT_CLEAN
