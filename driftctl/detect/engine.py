"""Runs detection for workspaces or plan files and builds the report (I/O: runs Terraform).

Per workspace one saved plan (``plan -out``, which never writes state) and its ``show -json``: its
``resource_drift`` holds every drift (Terraform reports all of it there, relevant or not) and its
``resource_changes`` the planned changes, of which those that do not revert drift are pending code
changes. One plan costs what the raw ``plan -refresh-only`` + ``show -json`` a user would run costs.
One workspace failing never stops the others; it shows as an error in the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl import __version__
from driftctl.detect.findings import detect_plan
from driftctl.detect.ignore import IgnoreRule, apply_ignores, load_ignore_file
from driftctl.detect.severity import SeverityRules, classify
from driftctl.errors import DriftctlError, PlanFormatError
from driftctl.models import DetectReport, Finding, PendingChange, WorkspaceReport
from driftctl.scratch import scratch_dir
from driftctl.terraform.plan import TOO_DEEP, Plan, parse_plan

if TYPE_CHECKING:
    from driftctl.terraform import Terraform

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Target:
    """What to detect on: a Terraform working directory, or a saved plan JSON."""

    name: str
    path: Path | None = None  # working directory
    plan_file: Path | None = None
    terraform: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    var_files: tuple[str, ...] = ()
    backend_config: tuple[tuple[str, str], ...] = ()
    ignore_file: Path | None = None
    timeout: float = 600.0
    mode: str = "detect"  # detect | propose | auto
    confidence_threshold: float = 0.85
    max_risk: float = 0.3
    breaker_failures: int = 3
    max_applies_per_hour: int = 10


@dataclass(frozen=True, slots=True)
class Policy:
    """How findings are judged: severity rules, ignore rules from the command line, today's date."""

    severity: SeverityRules
    cli_ignores: tuple[IgnoreRule, ...] = ()
    today: date | None = None
    pending: bool = True


def finish(
    name: str,
    path: str | None,
    findings: Sequence[Finding],
    pending: Sequence[PendingChange],
    policy: Policy,
    ignore_file: Path | None,
    *,
    terraform_version: str | None,
    started: float,
) -> WorkspaceReport:
    """Classify severities, apply ignore rules, and assemble one workspace's report."""
    rules = tuple(policy.cli_ignores)
    if ignore_file is not None:
        rules = load_ignore_file(ignore_file) + rules
    outcome = apply_ignores(findings, rules, today=policy.today or date.today())
    classified = tuple(classify(f, policy.severity) for f in outcome.findings)
    return WorkspaceReport(
        workspace=name,
        path=path,
        findings=classified,
        pending=tuple(pending),
        ignored=tuple(outcome.ignored),
        alerts=tuple(outcome.alerts),
        terraform_version=terraform_version,
        duration_s=round(time.perf_counter() - started, 3),
    )


def detect_plan_file(target: Target, policy: Policy) -> WorkspaceReport:
    """Detection on a saved plan JSON; no Terraform needed."""
    from driftctl.terraform.plan import read_plan_file

    assert target.plan_file is not None
    started = time.perf_counter()
    return _report(target, policy, read_plan_file(target.plan_file), str(target.plan_file), started)


def terraform_for(target: Target) -> Callable[[Path], Terraform]:
    """A factory of Terraform facades for this target's binary, env and timeout, at any directory."""
    from driftctl.terraform import SubprocessRunner, Terraform, resolve_binary

    binary = resolve_binary(target.terraform)

    def at(directory: Path) -> Terraform:
        runner = SubprocessRunner(binary, default_timeout=target.timeout, base_env=dict(target.env))
        return Terraform(runner, directory, timeout=target.timeout)

    return at


def workspace_plan(target: Target, tf: Terraform, scratch: Path, progress: Progress) -> tuple[Plan, str]:
    """``init`` if the workspace never was, then a saved plan and its ``show -json`` (parsed and raw)."""
    assert target.path is not None
    if not target.path.is_dir():
        raise DriftctlError(f"workspace {target.name}: {target.path} is not a directory")
    if not (target.path / ".terraform").is_dir():
        progress(f"{target.name}: terraform init")
        tf.init(backend_config=dict(target.backend_config))
    progress(f"{target.name}: terraform plan")
    plan_file = scratch / "detect.tfplan"
    tf.plan(out=plan_file, var_files=target.var_files)
    shown = tf.run(("show", "-json", "-no-color", str(plan_file)))
    return parse_plan(shown.stdout, source=f"{target.name}: terraform show -json"), shown.stdout


def detect_workspace(target: Target, policy: Policy, progress: Progress) -> WorkspaceReport:
    """Detection on a working directory with real Terraform."""
    assert target.path is not None
    started = time.perf_counter()
    tf = terraform_for(target)(target.path)
    with scratch_dir("detect-") as tmp:  # owned by this pid: a killed run's is swept (driftctl.scratch)
        plan, _ = workspace_plan(target, tf, tmp, progress)
    return _report(target, policy, plan, str(target.path), started)


def _report(target: Target, policy: Policy, plan: Plan, path: str, started: float) -> WorkspaceReport:
    try:
        findings, pending = detect_plan(plan)
        return finish(
            target.name,
            path,
            findings,
            pending if policy.pending else [],
            policy,
            target.ignore_file,
            terraform_version=plan.terraform_version,
            started=started,
        )
    except RecursionError:  # comparing and grading walk values once per level of nesting
        raise PlanFormatError(f"{plan.source}: {TOO_DEEP}") from None


def detect_one(target: Target, policy: Policy, progress: Progress) -> WorkspaceReport:
    """One target; every expected failure becomes an error entry in the report, never an exception."""
    started = time.perf_counter()
    try:
        if target.plan_file is not None:
            return detect_plan_file(target, policy)
        report = detect_workspace(target, policy, progress)
        progress(f"{target.name}: {len(report.findings)} finding(s) in {report.duration_s:.1f}s")
        return report
    except DriftctlError as exc:
        progress(f"{target.name}: error: {exc.message.splitlines()[0]}")
        path = str(target.plan_file or target.path) if (target.plan_file or target.path) else None
        return WorkspaceReport(
            workspace=target.name,
            path=path,
            error=exc.message,
            duration_s=round(time.perf_counter() - started, 3),
        )


def detect(
    targets: Sequence[Target], policy: Policy, *, parallel: int = 4, progress: Progress | None = None
) -> DetectReport:
    """Detect on every target, at most ``parallel`` at once; the report is sorted by workspace name."""
    say: Progress = progress or (lambda _m: None)
    workers = max(1, min(parallel, len(targets)))
    if workers == 1:
        reports = [detect_one(t, policy, say) for t in targets]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            reports = list(pool.map(lambda t: detect_one(t, policy, say), targets))
    return DetectReport(
        workspaces=tuple(sorted(reports, key=lambda r: r.workspace)),
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        driftctl_version=__version__,
    )
