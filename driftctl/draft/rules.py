"""The deterministic drafter: revert or adopt by rule, with a template rationale (I/O: reads HCL files).

Always available; the LLM drafter falls back to it. It prefers reverting security-relevant drift and
adopting benign drift (tags), edits only literal values it can follow, and says when a human must
decide instead of guessing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from driftctl.models import ChangeKind, Draft, FileEdit, Finding, FindingKind, Severity, Strategy

NAME = "rules"

# Drift at or above this severity is reverted by default: reality is put back to what was reviewed.
REVERT_AT = Severity.MEDIUM


def preferred_strategy(finding: Finding) -> Strategy:
    """Security-relevant or destructive drift → revert; benign drift (severity low/info) → adopt.

    A changed sensitive value is always reverted: adopting it would write the secret into code.
    """
    if finding.kind is FindingKind.DELETED or sensitive_paths(finding):
        return Strategy.REVERT
    return Strategy.REVERT if finding.severity.rank >= REVERT_AT.rank else Strategy.ADOPT


def sensitive_paths(finding: Finding) -> tuple[str, ...]:
    """The paths of ``finding`` whose values are sensitive (masked)."""
    return tuple(c.path for c in finding.changes if c.sensitive)


def adopt_refusal(finding: Finding) -> str | None:
    """Why ``finding`` must not be adopted (a sensitive value changed), or None."""
    paths = sensitive_paths(finding)
    if not paths:
        return None
    return (
        f"{', '.join(paths)} {'holds a sensitive value' if len(paths) == 1 else 'hold sensitive values'}; "
        "adopting would write the secret into code, which driftctl never does: revert it "
        "(`--strategy revert` puts the code's value back) or change the secret at its source by hand"
    )


def summarize(finding: Finding, limit: int = 3) -> str:
    """`tags.owner added, instance_type t3.micro → m5.large` — short, values masked as they are."""
    if finding.kind is FindingKind.DELETED:
        return "the object was deleted outside Terraform"
    parts = []
    for change in finding.changes[:limit]:
        if change.kind is ChangeKind.ADDED:
            parts.append(f"{change.path} added")
        elif change.kind is ChangeKind.REMOVED:
            parts.append(f"{change.path} removed")
        elif isinstance(change.before, str | int | float | bool) and isinstance(
            change.after, str | int | float | bool
        ):
            parts.append(f"{change.path} {change.before!r} → {change.after!r}")
        else:
            parts.append(f"{change.path} changed")
    more = len(finding.changes) - limit
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def rationale(finding: Finding, strategy: Strategy) -> str:
    severity = f"{finding.severity.value}, rule {finding.severity_rule}"
    what = f"{finding.address} drifted ({severity}): {summarize(finding)}."
    if strategy is Strategy.REVERT:
        secret = sensitive_paths(finding)
        why = (
            "security-relevant or destructive drift goes back to the reviewed code"
            if finding.severity.rank >= REVERT_AT.rank or finding.kind is FindingKind.DELETED
            else f"a sensitive value changed ({', '.join(secret)}) and a secret is never written into code"
            if secret
            else "reverting was requested"
        )
        return f"{what} The fix re-applies the code to this address only (a targeted plan), because {why}."
    why = (
        "benign drift made in the console is usually intended and cheaper to keep"
        if finding.severity.rank < REVERT_AT.rank
        else "adopting was requested"
    )
    return f"{what} The fix edits the code so it matches reality, because {why}."


class RulesDrafter:
    """Drafts one fix per finding without any model; see the module docstring."""

    name = NAME

    def draft(self, finding: Finding, workspace: Path, strategy: Strategy | None = None) -> Draft:
        chosen = strategy or preferred_strategy(finding)
        if chosen is Strategy.REVERT:
            confidence = 0.9 if finding.kind is FindingKind.CHANGED else 0.85
            return Draft(finding.address, chosen, NAME, (), rationale(finding, chosen), confidence)
        if finding.kind is FindingKind.DELETED:
            return Draft(
                finding.address,
                chosen,
                NAME,
                needs_human="the object is gone from the cloud; adopting that means deleting its code, "
                "which driftctl never drafts on its own",
            )
        refusal = adopt_refusal(finding)
        if refusal is not None:
            return Draft(finding.address, chosen, NAME, needs_human=refusal)
        from driftctl.draft.hcl_edit import DraftError, adopt_changes

        try:
            result = adopt_changes(workspace, finding)
        except DraftError as exc:
            return Draft(finding.address, chosen, NAME, needs_human=exc.message)
        if result.unresolved:
            return Draft(finding.address, chosen, NAME, needs_human="; ".join(result.unresolved))
        if not result.edits:
            return Draft(finding.address, chosen, NAME, needs_human="no code change would express this drift")
        edits = rebase(result.edits, result.root or workspace, workspace)
        return Draft(finding.address, chosen, NAME, edits, rationale(finding, chosen), 0.9)


def rebase(edits: tuple[FileEdit, ...], drafted_at: Path, workspace: Path) -> tuple[FileEdit, ...]:
    """Edit paths relative to the workspace root (workspace + local modules) that verification copies."""
    from driftctl.verify import workspace_root

    root = workspace_root(workspace)
    return tuple(replace(e, path=str((drafted_at / e.path).resolve().relative_to(root))) for e in edits)
