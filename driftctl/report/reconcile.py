"""Renders a `driftctl reconcile` run: a console summary, JSON or Markdown (no I/O)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click
import msgspec

from driftctl.report.console import plain
from driftctl.report.wrap import wrapped

if TYPE_CHECKING:
    from driftctl.reconcile.pipeline import ReconcileReport, WorkspaceResult

SCHEMA_VERSION = "1"

_COLORS = {
    "healed": "green",
    "clean": "green",
    "would_apply": "cyan",
    "proposed": "yellow",
    "awaiting_apply": "yellow",
    "drift": "yellow",
    "detected": "yellow",
    "blocked": "red",
    "needs_human": "red",
    "heal_failed": "red",
    "error": "red",
    "skipped": "magenta",
}


def reconcile_document(report: ReconcileReport) -> dict[str, Any]:
    workspaces = []
    for w in report.workspaces:
        doc = asdict(w)
        doc["status"] = w.status.value
        doc["items"] = [dict(asdict(i), outcome=i.outcome.value) for i in w.items]
        workspaces.append(doc)
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": report.run_id,
        "dry_run": report.dry_run,
        "started_at": report.started_at,
        "duration_s": report.duration_s,
        "exit_code": report.exit_code,
        "workspaces": workspaces,
    }


def _workspace(w: WorkspaceResult, paint: Any, width: int = 0) -> list[str]:
    head = f"{w.workspace}  {paint(w.status.value.upper(), fg=_COLORS.get(w.status.value), bold=True)}"
    head += f"  (mode {w.mode}, {w.duration_s:.1f}s)"
    lines = [head]
    for note in w.recovered:
        lines.append(f"  ! {plain(note)}")
    if w.error:
        lines.append(f"  error: {plain(w.error.splitlines()[0])}")
    for item in w.items:
        label = paint(f"{item.outcome.value:<14}", fg=_COLORS.get(item.outcome.value))
        extra = []
        if item.strategy:
            extra.append(item.strategy)
        if item.risk is not None and item.confidence is not None:
            extra.append(f"risk {item.risk:.2f} conf {item.confidence:.2f}")
        if item.seconds is not None:
            extra.append(f"healed in {item.seconds:.1f}s")
        if item.proposal_id:
            extra.append(f"proposal {item.proposal_id}")
        detail = f"  ({', '.join(extra)})" if extra else ""
        lines.append(f"  {label} {plain(item.address)} [{item.severity}]{detail}")
        # The rationale may come from an LLM: a stray \r or a bidi control must not rewrite the line.
        if item.outcome.value not in ("healed", "detected") and item.rationale:
            lines.extend(wrapped(plain(item.rationale), "      ", "        ", width))
        if item.where:
            lines.append(f"      → {plain(item.where)}")
    for alert in w.alerts:
        lines.append(f"  alert: {plain(alert)}")
    return lines


def _markdown(report: ReconcileReport) -> str:
    from driftctl.report.markdown import cap, code, marker, text

    counts: dict[str, int] = {}
    for w in report.workspaces:
        for item in w.items:
            counts[item.outcome.value] = counts.get(item.outcome.value, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no drift"
    lines = [
        marker("reconcile", (w.workspace for w in report.workspaces)),
        f"## driftctl reconcile: {text(summary)}" + (" (dry run)" if report.dry_run else ""),
        "",
        "| Workspace | Mode | Status | Findings |",
        "| --- | --- | --- | ---: |",
        *(
            f"| {code(w.workspace)} | {w.mode} | {w.status.value} | {len(w.items)} |"
            for w in report.workspaces
        ),
        "",
    ]
    for w in report.workspaces:
        if not (w.items or w.error or w.alerts):
            continue
        lines += [f"### {text(w.workspace)} — {w.status.value}", ""]
        if w.error:
            lines += [f"**Error:** {text(w.error.splitlines()[0])}", ""]
        if w.items:
            lines += ["| Outcome | Address | Severity | Strategy | Risk | Confidence | Proposal |"]
            lines += ["| --- | --- | --- | --- | ---: | ---: | --- |"]
            for i in w.items:
                risk = f"{i.risk:.2f}" if i.risk is not None else ""
                conf = f"{i.confidence:.2f}" if i.confidence is not None else ""
                pid = code(i.proposal_id) if i.proposal_id else ""
                lines.append(
                    f"| {i.outcome.value} | {code(i.address)} | {i.severity} | {i.strategy or ''} "
                    f"| {risk} | {conf} | {pid} |"
                )
            lines.append("")
        lines += [f"- {text(a)}" for a in w.alerts]
    lines += [f"<sub>run {text(report.run_id)} · exit code {report.exit_code}</sub>"]
    return "\n".join(cap(lines)) + "\n"


def render_reconcile(report: ReconcileReport, fmt: str, *, color: bool = False, width: int = 0) -> str:
    """``fmt`` console, json or markdown; console rationales wrapped at ``width`` columns (0: not)."""
    if fmt == "json":
        return msgspec.json.encode(reconcile_document(report)).decode() + "\n"
    if fmt == "markdown":
        return _markdown(report)

    def paint(text: str, **style: Any) -> str:
        return click.style(text, **style) if color and style.get("fg") else text

    lines = [
        f"driftctl reconcile — run {report.run_id}"
        + ("  (dry run: nothing applied or saved)" if report.dry_run else "")
    ]
    for w in report.workspaces:
        lines.append("")
        lines.extend(_workspace(w, paint, width))
    counts: dict[str, int] = {}
    for w in report.workspaces:
        for item in w.items:
            counts[item.outcome.value] = counts.get(item.outcome.value, 0) + 1
    parts = [f"{n} {k}" for k, n in sorted(counts.items())]
    for status, verb in (("skipped", "skipped"), ("error", "errored")):  # errors end up first
        names = [w.workspace for w in report.workspaces if w.status.value == status]
        if names:
            noun = "workspace" if len(names) == 1 else "workspaces"
            parts.insert(0, f"{len(names)} {noun} {verb} ({', '.join(names)})")
    # "no drift" only when every workspace was actually looked at: an errored one proves nothing.
    summary = ", ".join(parts) or "no drift"
    lines += [
        "",
        f"{summary}; exit code {report.exit_code}. `driftctl proposals` lists what waits for a human.",
    ]
    return "\n".join(lines) + "\n"
