"""Renders an assessment (score, reasons, decision) as console text, JSON or Markdown (no I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from driftctl.assess.engine import AssessReport

SCHEMA_VERSION = "1"


def to_document(report: AssessReport) -> dict[str, Any]:
    a, d, b = report.assessment, report.decision, report.blast
    return {
        "schema_version": SCHEMA_VERSION,
        "source": report.source,
        "decision": d.kind.value,
        "decision_reasons": list(d.reasons),
        "risk": a.risk,
        "confidence": a.confidence,
        "denies": list(a.denies),
        "warnings": list(a.warnings),
        "reasons": [
            {"source": r.source, "message": r.message, "risk": r.risk, "confidence": r.confidence}
            for r in a.reasons
        ],
        "blast_radius": {
            "changed": [{"address": addr, "action": act} for addr, act in b.changed],
            "dependents": list(b.dependents),
            "score": b.score,
            "risk": b.risk,
        },
        "policies": list(report.policies),
        "checkov": report.checkov_scanned,
    }


def _console(report: AssessReport) -> str:
    a, d = report.assessment, report.decision
    lines = [
        f"{report.source}",
        f"  decision    {d.kind.value.upper()}",
        # A block's reasons are the denies, which the reasons below list already: say so once.
        *(
            [f"              {len(a.denies)} policy deny(s), listed under reasons"]
            if d.kind.value == "block" and a.denies
            else (f"              {reason}" for reason in d.reasons)
        ),
        f"  risk        {a.risk:.2f}",
        f"  confidence  {a.confidence:.2f}",
        "  reasons",
    ]
    for r in a.reasons:
        figures = ", ".join(
            f
            for f in (
                f"risk {r.risk:+.2f}" if r.risk else "",
                f"conf {r.confidence:+.2f}" if r.confidence else "",
            )
            if f
        )
        lines.append(f"    [{r.source}] {r.message}" + (f"  ({figures})" if figures else ""))
    if not report.checkov_scanned:
        lines.append("  (checkov skipped)")
    return "\n".join(lines) + "\n"


def _markdown(report: AssessReport) -> str:
    from driftctl.report.markdown import cap, code, marker, text

    a, d = report.assessment, report.decision
    lines = [
        marker("assess", [report.source]),
        f"## driftctl assess: {d.kind.value} (risk {a.risk:.2f}, confidence {a.confidence:.2f})",
        "",
        f"Plan: {code(report.source, in_table=False)}",
        "",
        *(f"- {text(reason)}" for reason in d.reasons),
        "",
        "| Source | Reason | Risk | Confidence |",
        "| --- | --- | ---: | ---: |",
        *(
            f"| {text(r.source)} | {text(r.message)} | {r.risk:+.2f} | {r.confidence:+.2f} |"
            for r in a.reasons
        ),
        "",
    ]
    if not report.checkov_scanned:
        lines += ["_checkov skipped_", ""]
    return "\n".join(cap(lines)).rstrip("\n") + "\n"


def render_assessment(report: AssessReport, fmt: str) -> str:
    if fmt == "markdown":
        return _markdown(report)
    if fmt == "json":
        return (
            msgspec.json.format(msgspec.json.encode(to_document(report), enc_hook=str), indent=2).decode()
            + "\n"
        )
    return _console(report)
