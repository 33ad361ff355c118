"""Comments and descriptions in the Atlantis shape: header, a section per finding, next steps (no I/O).

Every untrusted value goes through `driftctl.forge.text` (inert prose, code spans, fences); output
longer than 12 lines is folded into ``<details>``; every next step is a copy-paste command. The
callers split what they post with `split_comment`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from driftctl.forge.text import code, collapsible, fenced, inert

if TYPE_CHECKING:
    from driftctl.audit.tables import ProposalRow

DRIFT_LABEL = "driftctl-drift"
MAX_TABLE_ROWS = 50


@dataclass(frozen=True, slots=True)
class ProposalView:
    """What a comment shows of one stored proposal (values were masked when the drift was detected)."""

    id: str
    workspace: str
    address: str
    strategy: str
    status: str
    rationale: str = ""
    risk: float | None = None
    confidence: float | None = None
    changes: tuple[tuple[str, Any, Any], ...] = ()
    diff: str = ""
    verification: str = ""
    reasons: tuple[str, ...] = ()
    decision: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: ProposalRow) -> ProposalView:
        data = json.loads(row.data or "{}")
        if "schema_version" in data:  # the stored record (driftctl.reconcile.records)
            return cls._from_record(row)
        finding, doc = data.get("finding", {}), data.get("proposal", {})
        verification = doc.get("verification") or {}
        assessment = doc.get("assessment") or {}
        return cls(
            **_row_fields(row),
            changes=tuple((c["path"], c.get("before"), c.get("after")) for c in finding.get("changes", [])),
            diff="".join(e.get("diff", "") for e in doc.get("edits", [])),
            verification=("verified: " if verification.get("ok") else "not verified: ")
            + str(verification.get("reason", ""))
            if verification
            else "",
            reasons=tuple(str(r.get("message", "")) for r in assessment.get("reasons", [])),
            decision=tuple((doc.get("decision") or {}).get("reasons", [])),
        )

    @classmethod
    def _from_record(cls, row: ProposalRow) -> ProposalView:
        from driftctl.core import proposal_record

        record = proposal_record(row)
        v = record.verification
        return cls(
            **_row_fields(row),
            changes=tuple((c.path, c.before, c.after) for c in record.finding.changes),
            diff=record.diff,
            verification=("verified: " if v.ok else "not verified: ") + v.reason if v is not None else "",
            reasons=record.assessment_reasons,
            decision=record.decision.reasons if record.decision is not None else (),
        )


@dataclass(frozen=True, slots=True)
class Section:
    """One finding's part of a command reply: a title, an outcome line, optional output."""

    title: str  # already inert
    outcome: str  # already inert
    ok: bool
    output: str = ""  # raw text: shown fenced
    lang: str = ""
    next_commands: tuple[str, ...] = field(default_factory=tuple)


def marker(kind: str, workspace: str, address: str = "") -> str:
    """A hidden tag that finds our pull request or issue again; addresses are hashed (they hold quotes)."""
    key = hashlib.sha256(address.encode()).hexdigest()[:16] if address else "workspace"
    return f"<!-- driftctl:{kind} workspace={workspace} key={key} -->"


def branch_for(workspace: str, address: str) -> str:
    """One stable branch per drifted resource, so the next run updates its pull request."""
    return f"driftctl/adopt/{workspace}/{hashlib.sha256(address.encode()).hexdigest()[:12]}"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return code(text, limit=80)


def drift_table(views: Sequence[ProposalView]) -> str:
    rows = ["| Resource | Attribute | In the code | In reality |", "| --- | --- | --- | --- |"]
    count = 0
    for v in views:
        for path, before, after in v.changes or (("(resource)", "present", "deleted"),):
            count += 1
            if count <= MAX_TABLE_ROWS:
                rows.append(
                    f"| {code(v.address, 120)} | {code(path, 80)} | {_value(before)} | {_value(after)} |"
                )
    if count > MAX_TABLE_ROWS:
        rows.append(f"\n…and {count - MAX_TABLE_ROWS} more changes (`driftctl detect` lists them all).")
    return "\n".join(rows)


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"* {inert(i)}" for i in items) or "* none"


def diff_block(diff: str, summary: str = "Show the diff") -> str:
    lines = diff.count("\n") + 1
    return collapsible(summary, fenced(diff, "diff"), lines)


def adopt_pull(view: ProposalView) -> tuple[str, str]:
    """Title and description of the pull request that adopts one drifted resource into the code."""
    title = f"driftctl: adopt drift on {view.address} ({view.workspace})"[:250]
    risk = "n/a" if view.risk is None else f"{view.risk:.2f}"
    conf = "n/a" if view.confidence is None else f"{view.confidence:.2f}"
    reject_command = f'driftctl reject {view.id} --reason "…"'
    body = "\n".join(
        [
            marker("adopt", view.workspace, view.address),
            f"**driftctl** found drift on {code(view.address)} in workspace {code(view.workspace)} and "
            "drafted this change so the code matches reality. It was verified in a scratch copy: "
            "with it, Terraform plans no change.",
            "",
            "### Drift",
            drift_table([view]),
            "",
            "### Change",
            diff_block(view.diff),
            "",
            "### Rationale",
            inert(view.rationale, limit=2000),
            "",
            "### Verification",
            inert(view.verification or "not recorded"),
            "",
            f"### Risk {risk} · confidence {conf}",
            _bullets(view.reasons),
            "",
            "### Decision",
            _bullets(view.decision),
            "",
            f"Proposal {code(view.id)}. Merge this pull request to adopt the change, or comment:",
            f"* {code(f'driftctl approve {view.id}')} then {code(f'driftctl apply {view.id}')} "
            "to write it and record it in state now",
            f"* {code(reject_command)} to refuse it",
            "",
            "---",
            "*Updated by driftctl on every run while the drift lasts; closed when it is gone.*",
        ]
    )
    return title, body


def drift_issue(workspace: str, views: Sequence[ProposalView]) -> tuple[str, str]:
    """Title and body of the workspace's tracked drift issue: the current table and what waits."""
    title = f"driftctl: drift in workspace {workspace}"
    waiting = [
        f"* {code(v.id)} {v.strategy} {code(v.address)} ({inert(v.status)}): "
        f"{code(f'driftctl approve {v.id}')} · {code(f'driftctl apply {v.id}')}"
        for v in views
    ]
    body = "\n".join(
        [
            marker("drift", workspace),
            f"Ran Plan for 1 workspace: {code(workspace)}",
            "",
            f"**{len(views)}** drifted resource{'s' if len(views) != 1 else ''} waiting for a human.",
            "",
            drift_table(views),
            "",
            "### Waiting for a decision",
            *waiting,
            "",
            *[_finding_detail(v) for v in views],
            "---",
            f"*This issue is updated by driftctl on every run and closed when {code(workspace)} is clean.*",
        ]
    )
    return title, body


def _finding_detail(v: ProposalView) -> str:
    text = [f"#### {code(v.address)}", inert(v.rationale, limit=2000), ""]
    if v.diff:
        text += [diff_block(v.diff), ""]
    return "\n".join(text)


def command_reply(action: str, workspace: str | None, sections: Sequence[Section], footer: str) -> str:
    """``Ran <Action> for N workspace(s)``, a section per finding, the next commands, a footer."""
    where = f": {code(workspace)}" if workspace else ""
    n = 1 if workspace else 0
    out = [f"Ran {action} for {n} workspace{'s' if n != 1 else ''}{where}", ""]
    for i, s in enumerate(sections, 1):
        out.append(f"### {i}. {s.title}")
        out.append(("✅ " if s.ok else "❌ ") + s.outcome)
        if s.output:
            out += ["", collapsible("Show Output", fenced(s.output, s.lang), s.output.count("\n") + 1)]
        if s.next_commands:
            out += ["", "* ▶️ Next, comment:"]
            out += [f"  * {code(c)}" for c in s.next_commands]
        out.append("")
    out += ["---", footer]
    return "\n".join(out)


def refusal(user: str, message: str) -> str:
    return f"Sorry {inert(user, 60)}, {message}"


def approve_reply(view: ProposalView, by: str) -> str:
    section = Section(
        f"{code(view.address)} proposal {code(view.id)}",
        f"approved by {inert(by)}",
        True,
        next_commands=(f"driftctl apply {view.id}",),
    )
    return command_reply("Approve", view.workspace, [section], "1 approved")


def reject_reply(view: ProposalView, by: str) -> str:
    section = Section(f"{code(view.address)} proposal {code(view.id)}", f"rejected by {inert(by)}", True)
    return command_reply("Reject", view.workspace, [section], "1 rejected")


def apply_reply(view: ProposalView, status: str, message: str) -> str:
    """The reply to ``driftctl apply``: the outcome, the change that was applied, what to do next."""
    ok = status == "applied"
    section = Section(
        f"{code(view.address)} proposal {code(view.id)}",
        f"{inert(status)}: {inert(message, 1000)}",
        ok,
        output=view.diff or view.rationale,
        lang="diff" if view.diff else "",
        next_commands=() if ok else (f"driftctl plan -w {view.workspace}",),
    )
    footer = f"{int(ok)} applied, {int(not ok)} not applied"
    return command_reply("Apply", view.workspace, [section], footer)


def _row_fields(row: ProposalRow) -> dict[str, Any]:
    """What a proposal view takes from the row itself, whichever shape its stored data has."""
    return {
        "id": row.id,
        "workspace": row.workspace,
        "address": row.address,
        "strategy": row.strategy,
        "status": row.status,
        "rationale": row.rationale,
        "risk": row.risk,
        "confidence": row.confidence,
    }
