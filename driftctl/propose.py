"""`driftctl propose`: detect → draft → verify → assess → decide for one workspace; nothing is applied
(I/O: Terraform).

The same heal path as `reconcile` (:mod:`driftctl.reconcile.heal`), on the same findings: severity
and ignore rules applied exactly as `driftctl detect` applies them. The LLM drafter is tried first
when configured; when it is unavailable, replies garbage, breaks a guardrail, or its fix fails
verification more than ``max_attempts`` times, the rules drafter takes over and the proposal says so.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.assess.decide import Gate
from driftctl.detect.engine import Policy, Target, terraform_for, workspace_plan
from driftctl.detect.severity import SeverityRules
from driftctl.errors import DriftctlError
from driftctl.models import Proposal, Strategy
from driftctl.reconcile.heal import Drafting, heal_finding
from driftctl.reconcile.session import findings_of, verify_context

if TYPE_CHECKING:
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
    target: Target, severity: SeverityRules | Policy, options: ProposeOptions, progress: Progress
) -> ProposeReport:
    started = time.perf_counter()
    assert target.path is not None
    policy = severity if isinstance(severity, Policy) else Policy(severity)
    try:
        proposals = _propose(target, policy, options, progress, started)
    except DriftctlError as exc:
        return ProposeReport(target.name, str(target.path), error=exc.message, duration_s=_since(started))
    return ProposeReport(target.name, str(target.path), tuple(proposals), duration_s=_since(started))


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _propose(
    target: Target, policy: Policy, options: ProposeOptions, progress: Progress, started: float
) -> list[Proposal]:
    assert target.path is not None
    terraform_at = terraform_for(target)
    with tempfile.TemporaryDirectory(prefix="driftctl-propose-") as tmp:
        scratch = Path(tmp)
        plan, shown = workspace_plan(target, terraform_at(target.path), scratch, progress)
        findings, _alerts = findings_of(target, plan, policy, started)
        if options.address is not None:
            findings = tuple(f for f in findings if f.address == options.address)
            if not findings:
                raise DriftctlError(f"{options.address} has no drift in workspace {target.name}")
        ctx = verify_context(target, terraform_at, plan)
        # Nothing is applied here, so the store's breaker and hourly limit are not consulted.
        gate = Gate(
            mode=target.mode if target.mode != "detect" else "propose",
            confidence_threshold=target.confidence_threshold,
            max_risk=target.max_risk,
        )
        drafting = Drafting(options.strategy, options.llm, options.max_attempts, score=options.assess)
        doc = json.loads(shown)

        def say(message: str) -> None:
            progress(f"{target.name}: {message}")

        return [
            heal_finding(finding, ctx, drafting, gate, doc, scratch / f"f{i}", say).proposal
            for i, finding in enumerate(findings)
        ]
