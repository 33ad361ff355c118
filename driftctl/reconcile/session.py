"""One workspace's run: its Terraform, scratch space, freshness, and the shared detect step (I/O).

``detect`` is the one way every command gets findings from a workspace: a saved plan, its drift,
then severity and ignore rules exactly as `driftctl detect` applies them (`propose` used to skip the
ignore rules). A :class:`WorkspaceRun` holds the mutable state of one run, kept out of the results.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftctl.detect.engine import Policy, Target, finish, plan_findings, terraform_for, workspace_plan
from driftctl.models import Finding, Strategy
from driftctl.reconcile.freshness import Fingerprint, fingerprint
from driftctl.reconcile.heal import Drafting, Heal, heal_finding
from driftctl.reconcile.options import ReconcileOptions
from driftctl.reconcile.results import ItemResult
from driftctl.terraform.runner import with_lock_retry
from driftctl.verify import VerifyContext, planned_from, workspace_root

if TYPE_CHECKING:
    from driftctl.assess.decide import Gate
    from driftctl.reconcile.runtime import Runtime
    from driftctl.terraform import Terraform
    from driftctl.terraform.plan import Plan

Progress = Callable[[str], None]
TerraformAt = Callable[[Path], "Terraform"]


@dataclass(frozen=True, slots=True)
class Detected:
    """A workspace's findings (ignore rules applied), the plan they came from, and its alerts."""

    plan: Plan
    doc: dict[str, Any]
    findings: tuple[Finding, ...]
    alerts: tuple[str, ...] = ()


def findings_of(
    target: Target, plan: Plan, policy: Policy, started: float, *, record: bool = True
) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """Drift in ``plan`` as `driftctl detect` reports it: merged with the drift ledger (which keeps
    drift an apply wrote into state), severities set, ignore rules applied. ``record`` false: the
    ledger is read, not written (a dry run)."""
    found, pending = plan_findings(target, plan, policy, record=record)
    report = finish(
        target.name,
        str(target.path),
        found,
        pending,
        policy,
        target.ignore_file,
        terraform_version=plan.terraform_version,
        started=started,
    )
    return report.findings, tuple(a.message for a in report.alerts)


def verify_context(target: Target, tf_at: TerraformAt, plan: Plan) -> VerifyContext:
    assert target.path is not None
    return VerifyContext(
        workspace=target.path,
        terraform_at=tf_at,
        baseline=planned_from(plan.changes),
        var_files=target.var_files,
    )


def drafting_for(options: ReconcileOptions, rt: Runtime | None, *, score: bool = True) -> Drafting:
    """The live drafting setup for plain options: the LLM client is built here, where the work runs."""
    from driftctl.assess.engine import AssessOptions
    from driftctl.reconcile.runtime import llm_drafter

    llm, attempts = llm_drafter(options, rt.llm if rt is not None else None)
    if llm is not None and rt is not None:
        llm.progress = rt.progress  # a line per LLM attempt, as for every other step
    strategy = Strategy(options.strategy) if options.strategy else None
    return Drafting(strategy, llm, attempts, AssessOptions(checkov=options.checkov), score)


@dataclass
class WorkspaceRun:
    """The mutable state of one workspace's run (kept out of the frozen results)."""

    target: Target
    rt: Runtime
    options: ReconcileOptions
    drafting: Drafting
    mode: str
    scratch: Path
    started: float
    tf_at: TerraformAt
    tf: Terraform
    now: Callable[[], Fingerprint]  # the state/code fingerprint right now (a fake in unit tests)
    plan_doc: dict[str, Any] = field(default_factory=dict)
    fresh: Fingerprint | None = None
    items: list[ItemResult] = field(default_factory=list)
    applied: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # address → (seq, proposal)
    alerts: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls,
        target: Target,
        rt: Runtime,
        options: ReconcileOptions,
        scratch: Path,
        *,
        mode: str | None = None,
        started: float | None = None,
        drafting: Drafting | None = None,
    ) -> WorkspaceRun:
        assert target.path is not None
        path = target.path
        tf_at = terraform_for(target)
        tf = tf_at(path)
        return cls(
            target,
            rt,
            options,
            drafting or drafting_for(options, rt),
            mode or options.mode or target.mode,
            scratch,
            time.perf_counter() if started is None else started,
            tf_at,
            tf,
            lambda: fingerprint(tf, workspace_root(path)),
        )

    @property
    def name(self) -> str:
        return self.target.name

    def say(self, message: str) -> None:
        self.rt.progress(f"{self.name}: {message}")

    def audit(self, kind: str, status: str, data: dict[str, Any], subject: str | None = None) -> int:
        return self.rt.audit(kind, status, data, workspace=self.name, subject=subject)

    def plan(self, scratch: Path) -> tuple[Plan, str]:
        scratch.mkdir(parents=True, exist_ok=True)
        o = self.options
        return with_lock_retry(
            lambda: workspace_plan(self.target, self.tf, scratch, self.rt.progress),
            attempts=o.lock_attempts,
            base_delay=o.lock_base_delay,
        )

    def findings(self, plan: Plan) -> tuple[Finding, ...]:
        found, alerts = findings_of(
            self.target, plan, self.rt.policy, self.started, record=not self.options.dry_run
        )
        self.alerts.extend(alerts)
        return found

    def detect(self, scratch: Path) -> tuple[Plan, tuple[Finding, ...]]:
        """A fresh plan and its findings; the plan document is kept for the adopt assessments."""
        plan, shown = self.plan(scratch)
        self.plan_doc = json.loads(shown)
        return plan, self.findings(plan)

    def remaining(self, scratch: Path) -> set[str]:
        """Addresses a fresh plan still finds drifted (the confirmation after an apply)."""
        plan, _ = self.plan(scratch)
        return {f.address for f in self.findings(plan)}

    def gate(self, **hooks: Any) -> Gate:
        """The gate now; a hold the request carries (e.g. outside a maintenance window) applies to all."""
        if self.options.hold and "hold" not in hooks:
            hooks["hold"] = self.options.hold
        return self.rt.gate(self.target, self.mode, **hooks)

    def heal(
        self,
        ctx: VerifyContext,
        finding: Finding,
        scratch: Path,
        strategy: Strategy | None = None,
        **hooks: Any,
    ) -> Heal:
        """Draft, verify, assess and decide one finding under the gate as it is now (``hooks``: the
        gate's flapping / hold / held inputs for this finding)."""
        drafting = self.drafting if strategy is None else replace(self.drafting, strategy=strategy)
        gate = self.gate(**hooks)
        from driftctl.audit.history import heal_history

        history = heal_history(self.rt.store, self.target.name, finding.address)  # evidence for confidence
        return heal_finding(finding, ctx, drafting, gate, self.plan_doc, scratch, self.say, history)
