"""Renders `driftctl propose` results as console text or JSON (no I/O)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
import msgspec

from driftctl.models import Proposal
from driftctl.report.console import change_line, plain
from driftctl.report.wrap import wrapped

if TYPE_CHECKING:
    from driftctl.propose import ProposeReport

SCHEMA_VERSION = "1"


def proposal_document(p: Proposal) -> dict[str, Any]:
    d, v = p.draft, p.verification
    return {
        "address": p.finding.address,
        "severity": p.finding.severity.value,
        "severity_rule": p.finding.severity_rule,
        "kind": p.finding.kind.value,
        "strategy": d.strategy.value,
        "drafter": d.drafter,
        "accepted": p.accepted,
        "needs_human": d.needs_human,
        "rationale": d.rationale,
        "confidence": d.confidence,
        "notes": list(d.notes),
        "edits": [{"path": e.path, "diff": e.diff()} for e in d.edits],
        "verification": None
        if v is None
        else {
            "ok": v.ok,
            "reason": v.reason,
            "changes": [{"address": a, "actions": list(acts)} for a, acts in v.changes],
            "plan_sha256": v.plan_sha256,
            "attempts": v.attempts,
        },
        "audit": dict(d.audit),
        "assessment": None
        if p.assessment is None
        else {
            "risk": p.assessment.risk,
            "confidence": p.assessment.confidence,
            "denies": list(p.assessment.denies),
            "warnings": list(p.assessment.warnings),
            "reasons": [
                {"source": r.source, "message": r.message, "risk": r.risk, "confidence": r.confidence}
                for r in p.assessment.reasons
            ],
        },
        "decision": None
        if p.decision is None
        else {"kind": p.decision.kind.value, "reasons": list(p.decision.reasons)},
    }


def to_document(report: ProposeReport) -> dict[str, Any]:
    proposals = sorted(report.proposals, key=lambda p: (-p.finding.severity.rank, p.finding.address))
    return {
        "schema_version": SCHEMA_VERSION,
        "workspace": report.workspace,
        "path": report.path,
        "error": report.error,
        "summary": {
            "proposals": len(proposals),
            "verified": sum(p.accepted for p in proposals),
            "needs_human": sum(not p.accepted for p in proposals),
        },
        "proposals": [proposal_document(p) for p in proposals],
    }


def _console(report: ProposeReport, color: bool, width: int = 0) -> str:
    def paint(text: str, **style: Any) -> str:
        return click.style(text, **style) if color else text

    lines = [f"{report.workspace} — proposals  ({report.path})", ""]
    if report.error is not None:
        lines += [paint("error: ", fg="red", bold=True) + plain(report.error), ""]
    if not report.proposals and report.error is None:
        lines += ["no drift: nothing to propose", ""]
    for p in sorted(report.proposals, key=lambda p: (-p.finding.severity.rank, p.finding.address)):
        d, v = p.draft, p.verification
        status = (
            paint("VERIFIED", fg="green", bold=True)
            if p.accepted
            else paint("NEEDS A HUMAN", fg="yellow", bold=True)
        )
        lines.append(f"{status}  {plain(p.finding.address)}  [{p.finding.severity.value}]")
        lines.append(f"  strategy   {d.strategy.value} (drafter: {d.drafter}, confidence {d.confidence:.2f})")
        for change in p.finding.changes:
            lines.append("  drift      " + change_line(change))
        if d.rationale:
            lines += wrapped(plain(d.rationale), "  why        ", width=width)
        if d.needs_human:
            lines.append(f"  human      {plain(d.needs_human)}")
        if v is not None:
            verdict = "ok" if v.ok else "rejected"
            lines.append(f"  verified   {verdict}: {plain(v.reason.splitlines()[0] if v.reason else '')}")
            if d.strategy.value == "revert":
                for address, actions in v.changes:
                    lines.append(f"  plan       {'/'.join(actions)} {plain(address)}")
            elif v.changes:
                lines.append(f"  plan       {len(v.changes)} other planned change(s), unaltered by the edit")
        if p.assessment is not None:
            a = p.assessment
            lines.append(f"  risk       {a.risk:.2f}   confidence {a.confidence:.2f}")
            for deny in a.denies:
                lines.append(f"  deny       {plain(deny)}")
            for warning in a.warnings:
                lines.append(f"  warn       {plain(warning)}")
        if p.decision is not None:
            kind, reasons = p.decision.kind.value, plain("; ".join(p.decision.reasons))
            if kind == "auto_apply" and d.strategy.value == "adopt":
                kind = "proposed"  # what reconcile does with it: an adopt edits code, so it is reviewed
                reasons += "; an adopt edits code and is never applied silently"
            lines += wrapped(f"{kind}: {reasons}", "  decision   ", width=width)
        for note in d.notes:
            lines.append(f"  note       {plain(note)}")
        for edit in d.edits:
            lines.append("")
            lines += ["    " + line.rstrip("\n") for line in edit.diff().splitlines()]
        lines.append("")
    total = len(report.proposals)
    verified = sum(p.accepted for p in report.proposals)
    lines.append(f"{total} proposal(s): {verified} verified, {total - verified} need a human")
    return "\n".join(lines) + "\n"


def render_proposals(report: ProposeReport, fmt: str, *, color: bool = False, width: int = 0) -> str:
    """``fmt`` console or json; console prose wrapped at ``width`` columns (0: not wrapped)."""
    if fmt == "json":
        return (
            msgspec.json.format(msgspec.json.encode(to_document(report), enc_hook=str), indent=2).decode()
            + "\n"
        )
    return _console(report, color, width)
