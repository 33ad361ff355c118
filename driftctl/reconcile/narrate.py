"""Findings and proposals in plain words, for rationales, audit rows and stored records (no I/O)."""

from __future__ import annotations

import json
from typing import Any

from driftctl.models import DecisionKind, Finding, Proposal, Strategy


def _short(value: Any, width: int = 40) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def change_summary(finding: Finding, limit: int = 3) -> str:
    parts = [
        f"{c.path}: {_short(c.before)} → {_short(c.after)}{f' ({c.note})' if c.note else ''}"
        for c in finding.changes[:limit]
    ]
    if len(finding.changes) > limit:
        parts.append(f"and {len(finding.changes) - limit} more")
    if not parts:
        return "deleted outside Terraform" if finding.kind.value == "deleted" else "changed"
    return "; ".join(parts)


def rationale(p: Proposal) -> str:
    """A plain-language account of one proposal: what drifted, the fix, its proof, its score, the call."""
    f, d, v = p.finding, p.draft, p.verification
    what = "was deleted outside Terraform" if f.kind.value == "deleted" else f"drifted ({change_summary(f)})"
    text = [f"{f.address} {what}; severity {f.severity.value} ({f.severity_rule})."]
    if d.needs_human is not None:
        text.append(f"No automatic fix: {d.needs_human}.")
    else:
        verb = "put reality back to the code" if d.strategy is Strategy.REVERT else "change the code to match"
        why = d.rationale
        if why.startswith(f.address) and ". " in why:  # the rules drafter restates the finding first
            why = why.split(". ", 1)[1]
        text.append(f"Fix: {d.strategy.value} ({verb}), drafted by {d.drafter}. {why}".strip())
    if v is not None and d.needs_human is None:
        text.append(("Verified: " if v.ok else "Not verified: ") + v.reason.rstrip(".") + ".")
    if p.assessment is not None:
        text.append(f"Risk {p.assessment.risk:.2f}, confidence {p.assessment.confidence:.2f}.")
    if p.decision is not None:
        reasons = "; ".join(p.decision.reasons)
        if p.decision.kind is DecisionKind.AUTO_APPLY and d.strategy is Strategy.ADOPT:
            # The gate would allow it, but an adopt edits code: it waits for a review either way.
            text.append(
                f"Decision: proposed ({reasons}; adopt fixes change the code and are never applied "
                "silently: review and merge the change)."
            )
        else:
            text.append(f"Decision: {p.decision.kind.value}: {reasons}.")
    return " ".join(text)


def finding_data(f: Finding) -> dict[str, Any]:
    """A finding as stored: values were masked at parse time, so this holds no secret."""
    return {
        "address": f.address,
        "kind": f.kind.value,
        "severity": f.severity.value,
        "severity_rule": f.severity_rule,
        "changes": [
            {
                "path": c.path,
                "kind": c.kind.value,
                "before": c.before,
                "after": c.after,
                "sensitive": c.sensitive,
            }
            for c in f.changes
        ],
    }
