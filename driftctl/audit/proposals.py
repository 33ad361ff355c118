"""Proposals inside the tamper evidence: content digests, chained states, the apply gate (pure but one
function, ``require_chained_approval``, which reads the store).

A proposal's *content* is what ``apply`` would act on: the workspace and address, the strategy, the
sha256 of a revert's saved plan, and an adopt's diff. Its digest is fixed when the proposal is first
saved. Every status change is a chained ``proposal`` row ``{"proposal", "state", "digest"}`` written
in the same transaction as the change (see ``Store.update_proposal``), so:

- a status set to ``approved`` behind the store has no chained ``approved`` state (and no approval row);
- a diff or plan hash replaced behind the store no longer matches the chained digest;

and both ``audit verify`` and ``apply`` say so, naming the proposal and what does not match.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from driftctl.audit.chain import canonical
from driftctl.errors import DriftctlError

if TYPE_CHECKING:
    from driftctl.audit.store import Entry, Store
    from driftctl.audit.tables import ProposalRow


class ProposalIntegrityError(DriftctlError):
    """A proposal in the database does not match what the audit chain says about it (exit 1)."""


def proposal_diff(row: ProposalRow) -> str:
    """The adopt diff stored with ``row`` (every edit's diff, in order); ``""`` for none."""
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        return "\0unreadable:" + (row.data or "")  # a mangled blob still gets a (different) digest
    edits = data.get("proposal", {}).get("edits", []) if isinstance(data, dict) else []
    return "".join(str(e.get("diff", "")) for e in edits if isinstance(e, dict))


def proposal_content(row: ProposalRow) -> dict[str, Any]:
    """What ``apply`` would act on: the fields the digest covers."""
    return {
        "id": row.id,
        "workspace": row.workspace,
        "address": row.address,
        "strategy": row.strategy,
        "plan_sha256": row.plan_sha256,
        "diff_sha256": hashlib.sha256(proposal_diff(row).encode("utf-8")).hexdigest(),
    }


def proposal_digest(row: ProposalRow) -> str:
    """The sha256 of ``proposal_content(row)`` as canonical JSON."""
    return hashlib.sha256(canonical(proposal_content(row))).hexdigest()


def is_state_entry(data: Mapping[str, Any]) -> bool:
    """Whether a ``proposal`` row's data is a chained state (not the pipeline's verified/rejected note)."""
    return isinstance(data.get("proposal"), str) and isinstance(data.get("digest"), str) and "state" in data


def state_data(row: ProposalRow, chained_digest: str | None = None) -> dict[str, Any]:
    """The data of the chained state row for ``row``'s current status.

    ``chained_digest`` is the digest chained when the proposal was saved: it is kept (content never
    changes after that), and a row whose content no longer matches it is flagged, not laundered.
    """
    actual = proposal_digest(row)
    data: dict[str, Any] = {"proposal": row.id, "state": row.status, "digest": chained_digest or actual}
    if row.status == "approved" and row.approved_by:
        data["by"] = row.approved_by
    if chained_digest is not None and chained_digest != actual:
        data["content_mismatch"] = actual
    return data


def _mismatch(row: ProposalRow, latest: Mapping[str, Any] | None) -> str | None:
    if latest is None:
        return (
            f"proposal {row.id}: no chained state (written behind the store, or before proposals were "
            "chained)"
        )
    if latest["state"] != row.status:
        return (
            f"proposal {row.id}: status {row.status} in the database, but its chained state is "
            f"{latest['state']} (status edited behind the store)"
        )
    digest = proposal_digest(row)
    if latest["digest"] != digest:
        return (
            f"proposal {row.id}: its content (diff / plan sha256) does not match the chained digest "
            f"{str(latest['digest'])[:12]}… (content edited behind the store; now {digest[:12]}…)"
        )
    return None


def check_proposals(rows: Iterable[ProposalRow], states: Iterable[Entry]) -> list[str]:
    """A problem for every proposal whose status or content differs from its latest chained state."""
    latest: dict[str, Mapping[str, Any]] = {}
    for entry in states:
        latest[str(entry.data["proposal"])] = entry.data
    problems = []
    for row in sorted(rows, key=lambda r: r.id):
        problem = _mismatch(row, latest.get(row.id))
        if problem is not None:
            problems.append(problem)
    return problems


def require_chained_approval(store: Store, row: ProposalRow) -> Entry:
    """The chained approval that lets ``row`` be applied, or ``ProposalIntegrityError`` saying why not.

    Requires: an intact chain; the proposal's latest chained state is ``approved`` with the digest of
    the content in the database now; and an ``approval``/``approved`` row for it after that state.
    """
    report = store.verify_chain()
    if not report.ok:
        raise ProposalIntegrityError(
            f"refusing to apply proposal {row.id}: the audit chain is broken ({report.problems[0]})",
            hint="`driftctl audit verify` lists every problem",
        )
    states = store.proposal_states(row.id)
    problem = _mismatch(row, states[-1].data if states else None)
    if problem is not None:
        raise ProposalIntegrityError(
            f"refusing to apply {problem}",
            hint="re-run `driftctl reconcile` to draft a fresh proposal and have it approved",
        )
    approved_at = states[-1].seq
    approvals = [
        e
        for e in store.entries(kind="approval", status="approved", workspace=row.workspace)
        if e.data.get("proposal") == row.id and e.seq > approved_at
    ]
    if not approvals:
        raise ProposalIntegrityError(
            f"refusing to apply proposal {row.id}: no chained approval row follows its approved state",
            hint=f"`driftctl approve {row.id}` records one",
        )
    return approvals[-1]
