"""Heal one finding up to the decision: draft → verify → assess → decide (I/O: Terraform, policies, LLM).

The same path for `reconcile`, `propose`, approvals and scenarios. Verification hands over a typed
:class:`~driftctl.models.VerifiedFix`; the assessment scores exactly that plan (a revert) or what the
code would now encode (an adopt); :func:`~driftctl.assess.decide.decide_heal` makes the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftctl.assess.decide import Gate, Verdict, decide_heal
from driftctl.draft.rules import RulesDrafter, adopt_refusal, preferred_strategy
from driftctl.errors import DriftctlError
from driftctl.models import (
    Assessment,
    Draft,
    FileEdit,
    Finding,
    Proposal,
    Strategy,
    Verification,
    VerifiedFix,
)
from driftctl.verify import VerifyContext, verify, workspace_root

if TYPE_CHECKING:
    from driftctl.assess.engine import AssessOptions
    from driftctl.assess.score import HistoryLike
    from driftctl.draft.llm import LlmDrafter

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Drafting:
    """How fixes are drafted and scored for one request (live objects, built where the work runs)."""

    strategy: Strategy | None = None  # force revert/adopt; None: the severity policy
    llm: LlmDrafter | None = None  # None: rules only
    max_attempts: int = 2  # LLM redrafts after a failed verification
    assess: AssessOptions | None = None  # None: the defaults (checkov on)
    score: bool = True  # assess and decide verified fixes


@dataclass(frozen=True, slots=True)
class Heal:
    """One finding's proposal (with its assessment and decision) and the verdict behind the decision."""

    proposal: Proposal
    verdict: Verdict | None = None  # None: not verified, or not scored

    @property
    def fix(self) -> VerifiedFix | None:
        """The verified plan of an accepted fix (a revert applies exactly this)."""
        v = self.proposal.verification
        return v.fix if v is not None and self.proposal.accepted else None

    @property
    def apply(self) -> bool:
        return self.verdict is not None and self.verdict.apply

    @property
    def note(self) -> str:
        return self.verdict.note if self.verdict is not None else ""


def heal_finding(
    finding: Finding,
    ctx: VerifyContext,
    drafting: Drafting,
    gate: Gate,
    plan_doc: Mapping[str, Any],
    scratch: Path,
    progress: Progress | None = None,
    history: HistoryLike | None = None,
) -> Heal:
    """Draft and verify a fix for ``finding``, then assess and decide it under ``gate``.

    ``plan_doc`` is the workspace's detect plan (an adopt is scored as the change it writes into code);
    ``history``: the resource's recent heals, evidence for the confidence (driftctl.audit.history).
    """
    say = progress or (lambda _m: None)
    gate = gate_for(gate, finding)
    say(f"drafting a fix for {finding.address}")
    proposal = draft_and_verify(finding, ctx, drafting, scratch)
    fix = proposal.verification.fix if proposal.verification is not None else None
    if not proposal.accepted or not drafting.score:
        return Heal(proposal)
    say(f"assessing the fix for {finding.address}")
    revert = proposal.draft.strategy is Strategy.REVERT and fix is not None
    fix_plan = dict(fix.plan) if revert and fix is not None else adopted_change(plan_doc, finding.address)
    assessment, error = assess_fix(proposal, fix_plan, gate, drafting.assess, history)
    return decided(replace(proposal, assessment=assessment), gate, assess_error=error)


def gate_for(gate: Gate, finding: Finding) -> Gate:
    """``gate`` for this finding: when the drift ledger found the address flapping (it drifts again
    after heals), that evidence holds auto-apply, whoever built the gate."""
    note = finding.ledger
    if note is None or note.flapping is None or gate.flapping is not None:
        return gate
    return replace(gate, flapping=note.flapping)


def decided(proposal: Proposal, gate: Gate, *, assess_error: str | None = None) -> Heal:
    """The proposal decided under ``gate`` (again, when the gate moved: a re-decision is the same call)."""
    fix = proposal.verification.fix if proposal.verification is not None else None
    verdict = decide_heal(
        proposal.assessment,
        gate_for(gate, proposal.finding),
        strategy=proposal.draft.strategy,
        pinned_plan=fix is not None and proposal.draft.strategy is Strategy.REVERT,
        assess_error=assess_error,
    )
    return Heal(replace(proposal, decision=verdict.decision), verdict)


def adopted_change(plan_doc: Mapping[str, Any], address: str) -> dict[str, Any]:
    """What adopting a drift means as a change: last applied state → reality, as a planned update.

    (The adopt edit's own plan is a no-op; the honest question is what the code now encodes.)
    """
    doc = dict(plan_doc)
    drift = next((d for d in plan_doc.get("resource_drift") or [] if d.get("address") == address), None)
    doc["resource_changes"] = (
        [] if drift is None else [dict(drift, change=dict(drift["change"], actions=["update"]))]
    )
    doc.pop("resource_drift", None)
    return doc


def assess_fix(
    proposal: Proposal,
    fix_plan: dict[str, Any],
    gate: Gate,
    options: AssessOptions | None = None,
    history: HistoryLike | None = None,
) -> tuple[Assessment | None, str | None]:
    """The fix's assessment, or why none could be made (a policy engine that fails blocks: fail closed)."""
    from driftctl.assess.engine import AssessOptions, assess_plan

    try:
        report = assess_plan(
            fix_plan,
            options or AssessOptions(),
            gate,
            source=proposal.finding.address,
            draft=proposal.draft,
            verification=proposal.verification,
            history=history,
        )
    except DriftctlError as exc:
        return None, exc.message
    return report.assessment, None


def draft_and_verify(finding: Finding, ctx: VerifyContext, drafting: Drafting, scratch: Path) -> Proposal:
    """A verified draft, LLM first when there is one; the rules drafter takes over when it fails."""
    rules = RulesDrafter()
    strategy = drafting.strategy or preferred_strategy(finding)
    notes: list[str] = []
    errors: list[str] = []
    if drafting.llm is not None:
        for attempt in range(1, drafting.max_attempts + 2):
            draft, problem = _llm_draft(drafting.llm, finding, ctx.workspace, strategy, tuple(errors))
            if draft is None:
                notes.append(f"LLM drafter not used: {problem}; the rules drafter took over")
                break
            check = verify(finding, draft, ctx, scratch / f"llm{attempt}")
            if check.ok:
                final = replace(draft, notes=tuple(notes), edits=formatted(draft.edits, check))
                return Proposal(finding, final, replace(check, attempts=attempt))
            errors.append(check.reason)
            drafting.llm.reject_last(f"failed verification: {check.reason}")
            notes.append(f"LLM draft {attempt} failed verification: {check.reason}")
        else:
            notes.append("the LLM's drafts kept failing verification; the rules drafter took over")
    draft = rules.draft(finding, ctx.workspace, strategy)
    draft = replace(draft, notes=tuple(notes) + draft.notes)
    check = verify(finding, draft, ctx, scratch / "rules")
    return Proposal(finding, replace(draft, edits=formatted(draft.edits, check)), check)


def formatted(edits: tuple[FileEdit, ...], check: Verification) -> tuple[FileEdit, ...]:
    """The edits as `terraform fmt` left them in the verified copy (what a commit should contain)."""
    texts = dict(check.formatted)
    return tuple(replace(e, after=texts.get(e.path, e.after)) for e in edits)


def _llm_draft(
    llm: LlmDrafter, finding: Finding, workspace: Path, strategy: Strategy, errors: tuple[str, ...]
) -> tuple[Draft | None, str]:
    """A guarded LLM draft, or None and why it could not be had."""
    from driftctl.draft.guardrails import check_block
    from driftctl.draft.hcl_edit import locate_resource
    from driftctl.draft.llm import LlmReplyError, LlmUnavailableError
    from driftctl.draft.prompt import LlmContext

    try:
        where = locate_resource(workspace, finding.resource)
    except DriftctlError as exc:
        return None, exc.message
    block = where.text[where.start : where.end]
    root = workspace_root(workspace)
    path = str(where.file.resolve().relative_to(root))
    try:
        reply = llm.draft(LlmContext(finding, block, path, strategy, errors))
    except (LlmUnavailableError, LlmReplyError) as exc:
        return None, exc.message
    if reply.strategy is Strategy.REVERT:
        return Draft(
            finding.address, Strategy.REVERT, "llm", (), reply.rationale, reply.confidence, audit=reply.audit
        ), ""
    # Every rejected reply is recorded with its reason (audit rows of kind `llm`, driftctl.audit.llm).
    if reply.block is None:
        llm.reject_last("the LLM chose adopt but sent no block")
        return None, "the LLM chose adopt but sent no block"
    refusal = adopt_refusal(finding)
    if refusal is not None:
        llm.reject_last(f"adopt refused: {refusal}")
        return None, f"the LLM chose adopt, refused: {refusal}"
    violations = check_block(block, reply.block, finding.resource.type, finding.resource.name)
    if violations:
        llm.reject_last("guardrails: " + "; ".join(violations))
        return None, "guardrails rejected the LLM's edit: " + "; ".join(violations)
    after = where.text[: where.start] + reply.block.strip() + where.text[where.end :]
    edit = FileEdit(path, where.text, after)
    return Draft(
        finding.address, Strategy.ADOPT, "llm", (edit,), reply.rationale, reply.confidence, audit=reply.audit
    ), ""
