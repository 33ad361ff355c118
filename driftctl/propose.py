"""`driftctl propose`: detect → draft → verify for one workspace; nothing is applied (I/O: Terraform).

The LLM drafter is tried first when configured; when it is unavailable, replies garbage, breaks a
guardrail, or its fix fails verification more than ``max_attempts`` times, the rules drafter takes over
and the proposal says so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftctl.assess.decide import Gate
from driftctl.detect.engine import Target, terraform_for, workspace_plan
from driftctl.detect.findings import detect_plan
from driftctl.detect.severity import SeverityRules, classify
from driftctl.draft.rules import RulesDrafter, adopt_refusal, preferred_strategy
from driftctl.errors import DriftctlError
from driftctl.models import Decision, DecisionKind, Draft, FileEdit, Finding, Proposal, Strategy, Verification
from driftctl.scratch import scratch_dir
from driftctl.verify import VerifyContext, planned_from, verify, workspace_root

if TYPE_CHECKING:
    from driftctl.assess.engine import AssessOptions
    from driftctl.assess.score import HistoryLike
    from driftctl.draft.llm import LlmDrafter

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ProposeOptions:
    address: str | None = None  # only this finding (exact address)
    strategy: Strategy | None = None  # force revert/adopt; None = policy
    llm: LlmDrafter | None = None  # None = rules only
    max_attempts: int = 2  # LLM redrafts after a failed verification
    assess: bool = True  # score verified fixes (blast radius, checkov, Rego) and decide


@dataclass(frozen=True, slots=True)
class ProposeReport:
    workspace: str
    path: str
    proposals: tuple[Proposal, ...] = ()
    error: str | None = None
    duration_s: float = 0.0


def propose_workspace(
    target: Target, severity: SeverityRules, options: ProposeOptions, progress: Progress
) -> ProposeReport:
    started = time.perf_counter()
    assert target.path is not None
    try:
        proposals = _propose(target, severity, options, progress)
    except DriftctlError as exc:
        return ProposeReport(target.name, str(target.path), error=exc.message, duration_s=_since(started))
    return ProposeReport(target.name, str(target.path), tuple(proposals), duration_s=_since(started))


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _propose(
    target: Target, severity: SeverityRules, options: ProposeOptions, progress: Progress
) -> list[Proposal]:
    assert target.path is not None
    terraform_at = terraform_for(target)
    with scratch_dir("propose-") as tmp:  # owned by this pid: a killed run's is swept (driftctl.scratch)
        scratch = tmp
        plan, shown = workspace_plan(target, terraform_at(target.path), scratch, progress)
        detect_doc = json.loads(shown)
        findings, _pending = detect_plan(plan)
        findings = [classify(f, severity) for f in findings]
        if options.address is not None:
            findings = [f for f in findings if f.address == options.address]
            if not findings:
                raise DriftctlError(f"{options.address} has no drift in workspace {target.name}")
        ctx = VerifyContext(
            workspace=target.path,
            terraform_at=terraform_at,
            baseline=planned_from(plan.changes),
            var_files=target.var_files,
        )
        gate = Gate(
            mode=target.mode if target.mode != "detect" else "propose",
            confidence_threshold=target.confidence_threshold,
            max_risk=target.max_risk,
        )
        proposals = []
        for i, finding in enumerate(findings):
            progress(f"{target.name}: drafting a fix for {finding.address}")
            kept: list[dict[str, Any]] = []
            proposal = draft_and_verify(finding, ctx, options, scratch / f"f{i}", kept)
            if proposal.accepted and options.assess:
                progress(f"{target.name}: assessing the fix for {finding.address}")
                revert = proposal.draft.strategy is Strategy.REVERT and kept
                fix_plan = kept[-1] if revert else adopted_change(detect_doc, finding.address)
                proposal = assess_proposal(proposal, fix_plan, gate)
            proposals.append(proposal)
        return proposals


def adopted_change(plan_doc: dict[str, Any], address: str) -> dict[str, Any]:
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


def assess_proposal(
    proposal: Proposal,
    fix_plan: dict[str, Any],
    gate: Gate,
    options: AssessOptions | None = None,
    history: HistoryLike | None = None,
) -> Proposal:
    """The proposal with its assessment and decision; a policy engine that fails blocks (fails closed)."""
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
        blocked = Decision(DecisionKind.BLOCK, (f"assessment failed, so nothing may apply: {exc.message}",))
        return replace(proposal, decision=blocked)
    return replace(proposal, assessment=report.assessment, decision=report.decision)


def draft_and_verify(
    finding: Finding, ctx: VerifyContext, options: ProposeOptions, scratch: Path, kept: list[dict[str, Any]]
) -> Proposal:
    rules = RulesDrafter()
    strategy = options.strategy or preferred_strategy(finding)
    notes: list[str] = []
    errors: list[str] = []
    if options.llm is not None:
        for attempt in range(1, options.max_attempts + 2):
            draft, problem = _llm_draft(options.llm, finding, ctx.workspace, strategy, tuple(errors))
            if draft is None:
                notes.append(f"LLM drafter not used: {problem}; the rules drafter took over")
                break
            check = verify(finding, draft, ctx, scratch / f"llm{attempt}", kept)
            if check.ok:
                final = replace(draft, notes=tuple(notes), edits=formatted(draft.edits, check))
                return Proposal(finding, final, replace(check, attempts=attempt))
            errors.append(check.reason)
            options.llm.reject_last(f"failed verification: {check.reason}")
            notes.append(f"LLM draft {attempt} failed verification: {check.reason}")
        else:
            notes.append("the LLM's drafts kept failing verification; the rules drafter took over")
    draft = rules.draft(finding, ctx.workspace, strategy)
    draft = replace(draft, notes=tuple(notes) + draft.notes)
    check = verify(finding, draft, ctx, scratch / "rules", kept)
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
    if reply.block is None:
        llm.reject_last("the LLM chose adopt but sent no block")
        return None, "the LLM chose adopt but sent no block"
    refusal = adopt_refusal(finding)
    if refusal is not None:
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
