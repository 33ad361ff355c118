"""The `driftctl` command line: parses, calls, renders (I/O: terminal)."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from driftctl import __version__
from driftctl.cli_common import config_option, handles_errors, no_checkov_option, output_option
from driftctl.errors import EXIT_ERROR, DriftctlError


def _progress(message: str) -> None:
    click.echo(click.style("· ", fg="cyan") + message, err=True)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


sandbox_dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sandbox directory (default: $DRIFTCTL_SANDBOX_DIR or ./.driftctl/sandbox).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="driftctl")
def main() -> None:
    """driftctl keeps Terraform/OpenTofu infrastructure healed.

    It runs `terraform plan` against state, finds what changed outside Terraform (drift), drafts a
    verified fix for each finding and applies only the fixes that are small, safe and well
    understood. Everything else becomes a proposal for a human.

    Exit codes: 0 clean, 1 error, 2 drift found (like `terraform plan -detailed-exitcode`);
    `reconcile` adds 3 (every finding healed) and 4 (a workspace skipped: locked).

    Start with `driftctl doctor`, then `driftctl sandbox up` for a local cloud to try it on.
    """


# -- detect ---------------------------------------------------------------------------------------
@main.command()
@click.argument("workspaces", nargs=-1)
@config_option
@click.option(
    "--plan-file",
    "plan_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Read a saved `terraform show -json` plan instead of running Terraform. Repeatable.",
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["console", "json", "markdown", "sarif"]),
    default="console",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@click.option(
    "--parallel", type=click.IntRange(1, 64), default=None, help="Workspaces at once (default: config)."
)
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="ADDRESS[:PATH]",
    help="Ignore drift on matching addresses (glob) and attribute paths (glob). Repeatable.",
)
@click.option(
    "--severity-rules",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Severity rules file (default: policies/severity.yaml).",
)
@click.option("--no-pending", is_flag=True, help="Leave pending code changes out of the report.")
@click.option("--color/--no-color", default=None, help="Colour console output (default: when a terminal).")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handles_errors
def detect(
    workspaces: tuple[str, ...],
    config_path: Path | None,
    plan_files: tuple[Path, ...],
    output: str,
    out_file: Path | None,
    parallel: int | None,
    ignores: tuple[str, ...],
    severity_rules: Path | None,
    no_pending: bool,
    color: bool | None,
    quiet: bool,
) -> None:
    """Find drift: what changed outside Terraform, per resource and attribute.

    \b
    WORKSPACES are names from driftctl.yaml (default: all of them). Without a config file they are
    Terraform directories (default: the current directory).

    Pending code changes (the code differs from state) are reported apart, never as drift.
    One `terraform plan -out` + `show -json` per workspace; neither writes state.
    Exit codes: 0 no drift, 2 drift found, 1 error (a failed Terraform run is never "clean").

    \b
    Examples:
      driftctl detect                                  # every workspace in ./driftctl.yaml
      driftctl detect prod -o json --out drift.json
      driftctl detect --plan-file plan.json -o sarif   # a plan your CI already made
      driftctl detect --ignore 'module.app.*:tags.*'
    """
    from driftctl.detect.engine import Policy
    from driftctl.detect.engine import detect as run_detect
    from driftctl.detect.ignore import parse_cli_ignore
    from driftctl.detect.severity import load_severity_rules
    from driftctl.detect.targets import resolve_targets
    from driftctl.report import render

    targets, default_parallel = resolve_targets(workspaces, config_path, plan_files)
    policy = Policy(
        severity=load_severity_rules(severity_rules),
        cli_ignores=tuple(parse_cli_ignore(spec) for spec in ignores),
        pending=not no_pending,
    )
    report = run_detect(
        targets, policy, parallel=parallel or default_parallel, progress=None if quiet else _progress
    )
    use_color = (
        color
        if color is not None
        else (out_file is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    )
    text = render(report, output, color=bool(use_color) and output == "console")
    if out_file is not None:
        tmp = out_file.with_name(out_file.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(out_file)
        if not quiet:
            _progress(f"report written to {out_file}")
    else:
        click.echo(text, nl=not text.endswith("\n"))
    sys.exit(report.exit_code)


def _llm_drafter(config_path: Path | None, drafter: str) -> tuple[Any, int]:
    """The LLM drafter asked for (``llm``), or configured (``auto``), and its redraft budget; else None.

    Endpoint: the `llm:` section of driftctl.yaml, overridden by DRIFTCTL_LLM_BASE_URL and
    DRIFTCTL_LLM_MODEL; the key is read from the environment variable it names.
    """
    if drafter == "rules":
        return None, 2
    from driftctl.config import find_config, load_config
    from driftctl.draft.llm import LlmConfig, LlmDrafter

    path = config_path or find_config()
    settings = load_config(path).llm if path is not None else None
    base_url = os.environ.get("DRIFTCTL_LLM_BASE_URL") or (settings.base_url if settings else None)
    model = os.environ.get("DRIFTCTL_LLM_MODEL") or (settings.model if settings else None)
    if not base_url or not model:
        if drafter == "auto":
            return None, 2
        raise DriftctlError(
            "--drafter llm needs an endpoint: an `llm:` section in driftctl.yaml (base_url, model), "
            "or DRIFTCTL_LLM_BASE_URL and DRIFTCTL_LLM_MODEL",
            hint="e.g. DRIFTCTL_LLM_BASE_URL=http://127.0.0.1:8000/v1 DRIFTCTL_LLM_MODEL=qwen2.5-coder",
        )
    key_env = os.environ.get("DRIFTCTL_LLM_API_KEY_ENV") or (
        settings.api_key_env if settings else "OPENAI_API_KEY"
    )
    config = LlmConfig(base_url=base_url, model=model, api_key_env=key_env)
    attempts = 2
    if settings is not None:
        config = dataclasses.replace(config, timeout_s=settings.timeout_s, max_retries=settings.max_retries)
        attempts = settings.max_attempts
    return LlmDrafter(config), attempts


# -- propose --------------------------------------------------------------------------------------
@main.command()
@click.argument("workspace", required=False)
@config_option
@click.option("--address", default=None, help="Only the finding at this exact address.")
@click.option(
    "--strategy",
    type=click.Choice(["revert", "adopt"]),
    default=None,
    help="Force a strategy (default: policy).",
)
@click.option(
    "--drafter",
    type=click.Choice(["rules", "llm"]),
    default="rules",
    show_default=True,
    help="llm: an OpenAI-compatible endpoint ($DRIFTCTL_LLM_BASE_URL, $DRIFTCTL_LLM_MODEL, key in "
    "$DRIFTCTL_LLM_API_KEY_ENV or $OPENAI_API_KEY); the rules drafter takes over when it fails.",
)
@output_option
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handles_errors
def propose(
    workspace: str | None,
    config_path: Path | None,
    address: str | None,
    strategy: str | None,
    drafter: str,
    output: str,
    quiet: bool,
) -> None:
    """Draft and verify a fix for each drift in WORKSPACE; apply nothing.

    \b
    Each proposal is a revert (a targeted saved plan that puts reality back to the code) or an adopt
    (an HCL edit so the code matches reality), verified by re-planning: the drift must be gone and
    nothing else may change. Shown with the HCL diff, the planned changes, the verification result
    and a plain-language rationale.

    Verified fixes are then assessed (blast radius, checkov, Rego policies) and decided: block,
    auto_apply (only in auto mode, confident and low risk) or propose.

    Exit codes: 0 every proposal verified and none blocked (or no drift), 2 otherwise, 1 error.
    """
    from driftctl.detect.severity import load_severity_rules
    from driftctl.detect.targets import resolve_targets
    from driftctl.models import Strategy
    from driftctl.propose import ProposeOptions, propose_workspace
    from driftctl.report.proposals import render_proposals

    targets, _ = resolve_targets((workspace,) if workspace else (), config_path, ())
    if len(targets) != 1:
        raise DriftctlError(
            f"propose works on one workspace at a time; name one of: {', '.join(t.name for t in targets)}"
        )
    llm, attempts = _llm_drafter(config_path, drafter)
    options = ProposeOptions(
        address=address, strategy=Strategy(strategy) if strategy else None, llm=llm, max_attempts=attempts
    )
    report = propose_workspace(
        targets[0], load_severity_rules(None), options, (lambda _m: None) if quiet else _progress
    )
    color = output == "console" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(render_proposals(report, output, color=color), nl=False)
    if report.error is not None:
        sys.exit(EXIT_ERROR)
    blocked = any(p.decision is not None and p.decision.kind.value == "block" for p in report.proposals)
    sys.exit(0 if all(p.accepted for p in report.proposals) and not blocked else 2)


# -- assess ---------------------------------------------------------------------------------------
@main.command()
@click.option(
    "--plan-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A fix's saved plan as JSON (`terraform show -json PLANFILE`).",
)
@click.option(
    "--policies",
    "policy_dirs",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Extra Rego policy directory (added to the shipped policies/). Repeatable.",
)
@click.option("--no-shipped-policies", is_flag=True, help="Only the --policies directories.")
@click.option("--no-checkov", is_flag=True, help="Skip the checkov scan.")
@click.option(
    "--mode",
    type=click.Choice(["detect", "propose", "auto"]),
    default="auto",
    show_default=True,
    help="The mode the decision is made for.",
)
@click.option(
    "--threshold", type=click.FloatRange(0, 1), default=0.85, show_default=True, help="Confidence needed."
)
@click.option("--max-risk", type=click.FloatRange(0, 1), default=0.3, show_default=True, help="Risk allowed.")
@output_option
@handles_errors
def assess(
    plan_file: Path,
    policy_dirs: tuple[Path, ...],
    no_shipped_policies: bool,
    no_checkov: bool,
    mode: str,
    threshold: float,
    max_risk: float,
    output: str,
) -> None:
    """Score any plan JSON: blast radius, checkov, Rego policies → risk, confidence, decision.

    \b
    Usable in CI the way conftest is. Every number comes with the reasons behind it. A plan scored
    without a verified draft behind it gets confidence 0.5, so it never qualifies for auto-apply.
    Exit codes: 0 not blocked (auto_apply or propose), 2 blocked by a policy deny, 1 error (a broken
    or missing policy fails closed).
    """
    from driftctl.assess.decide import Gate
    from driftctl.assess.engine import AssessOptions, assess_plan, load_plan_json
    from driftctl.report.assessment import render_assessment

    plan = load_plan_json(plan_file)
    report = assess_plan(
        plan,
        AssessOptions(tuple(policy_dirs), not no_shipped_policies, not no_checkov),
        Gate(mode=mode, confidence_threshold=threshold, max_risk=max_risk),
        source=str(plan_file),
    )
    click.echo(render_assessment(report, output), nl=False)
    sys.exit(2 if report.decision.kind.value == "block" else 0)


# -- reconcile ------------------------------------------------------------------------------------
def _runtime(config_path: Path | None, quiet: bool) -> Any:
    """The runtime every reconcile-side command shares (built by the core, the one place)."""
    from driftctl.core import build_runtime

    return build_runtime(config_path, progress=(lambda _m: None) if quiet else _progress)


@main.command()
@click.argument("workspaces", nargs=-1)
@config_option
@click.option(
    "--mode",
    type=click.Choice(["detect", "propose", "auto"]),
    default=None,
    help="Override each workspace's configured mode. auto applies only fixes that verify, pass every "
    "policy, reach the confidence threshold and stay under the risk limit.",
)
@click.option(
    "--dry-run", is_flag=True, help="Decide everything, apply and save nothing (the audit is still written)."
)
@no_checkov_option
@click.option(
    "--strategy",
    type=click.Choice(["revert", "adopt"]),
    default=None,
    help="Force this fix for every finding (default: by severity: security-relevant or destructive drift "
    "is reverted, benign drift adopted). Policies still decide whether it may apply.",
)
@click.option(
    "--drafter",
    type=click.Choice(["auto", "rules", "llm"]),
    default="auto",
    show_default=True,
    help="auto: the LLM when driftctl.yaml has an `llm:` section (or DRIFTCTL_LLM_BASE_URL and "
    "DRIFTCTL_LLM_MODEL are set), else the rules drafter; the rules drafter always takes over when the "
    "LLM fails.",
)
@output_option
@click.option("--color/--no-color", default=None, help="Colour console output (default: when a terminal).")
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handles_errors
def reconcile(
    workspaces: tuple[str, ...],
    config_path: Path | None,
    mode: str | None,
    dry_run: bool,
    no_checkov: bool,
    strategy: str | None,
    drafter: str,
    output: str,
    color: bool | None,
    quiet: bool,
) -> None:
    """Heal drift: detect → draft → verify → assess → decide → act → confirm, per workspace.

    \b
    detect   report drift only
    propose  draft, verify and score a fix per finding; save each as a proposal
    auto     as propose, and apply the fixes decided auto_apply: a verified revert whose
             exact saved plan was scored (sha256 pinned in the audit trail), re-planned if the
             state or code moved since, then confirmed by a fresh plan
    Adopt fixes (code edits) are never applied on their own: they become a git branch, or a
    patch file outside a repository, plus a proposal. Every step is written to the audit trail
    (`driftctl audit list`). A workspace another reconciler holds is skipped; N failed heals
    open its breaker (`driftctl breaker`), and automatic applies are rate-limited per hour.

    Exit codes: 0 no drift, 3 every finding healed, 2 drift remains (see `driftctl proposals`),
    4 a workspace was skipped (locked), 1 error.
    """
    from driftctl import core
    from driftctl.report.reconcile import render_reconcile

    rt = _runtime(config_path, quiet)
    options = core.ReconcileOptions(
        mode=mode,  # type: ignore[arg-type]  # click.Choice checked it
        dry_run=dry_run,
        strategy=strategy,  # type: ignore[arg-type]
        drafter=drafter,  # type: ignore[arg-type]
        checkov=not no_checkov,
    )
    report = core.reconcile(core.resolve_workspaces(workspaces, rt), rt, options)
    use_color = color if color is not None else sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(render_reconcile(report, output, color=use_color and output == "console"), nl=False)
    sys.exit(report.exit_code)


@main.command()
@config_option
@click.option("--status", default=None, help="Only this status (pending, approved, applied, …).")
@click.option("--workspace", default=None, help="Only this workspace.")
@click.option("--all", "show_all", is_flag=True, help="Include rejected, applied and superseded ones.")
@output_option
@handles_errors
def proposals(
    config_path: Path | None, status: str | None, workspace: str | None, show_all: bool, output: str
) -> None:
    """List saved proposals: what reconcile would not apply on its own, and why."""
    from driftctl import core

    rt = _runtime(config_path, True)
    rows = core.list_proposals(
        rt, status=status, workspace=workspace, open_only=status is None and not show_all
    )
    if output == "json":
        _emit_json([r.model_dump() for r in rows])
        return
    if not rows:
        click.echo("no proposals" + ("" if show_all or status else " waiting (--all shows closed ones)"))
        return
    for r in rows:
        scored = r.risk is not None and r.confidence is not None
        risk = f"risk {r.risk:.2f} conf {r.confidence:.2f}" if scored else ""
        click.echo(f"{r.id}  {r.status:<12} {r.workspace:<12} {r.summary}  {risk}")
        click.echo(f"    {r.rationale}")
        where = (
            (r.branch and f"branch {r.branch}")
            or (r.patch_path and f"patch {r.patch_path}")
            or (r.plan_path and f"plan {r.plan_path}")
        )
        if where:
            click.echo(f"    → {where}")


@main.command()
@click.argument("proposal_id")
@config_option
@click.option("--by", default=None, help="Who approves (default: the current user).")
@handles_errors
def approve(proposal_id: str, config_path: Path | None, by: str | None) -> None:
    """Approve a pending proposal; `driftctl apply ID` then applies it (after re-checking it)."""
    from driftctl import core

    row = core.approve_proposal(_runtime(config_path, True), proposal_id, by)
    click.echo(f"approved {row.id} ({row.summary}); apply it with `driftctl apply {row.id}`")


@main.command()
@click.argument("proposal_id")
@config_option
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--by", default=None, help="Who rejects (default: the current user).")
@handles_errors
def reject(proposal_id: str, config_path: Path | None, reason: str, by: str | None) -> None:
    """Reject a proposal; it stays in the audit trail with the reason."""
    from driftctl import core

    row = core.reject_proposal(_runtime(config_path, True), proposal_id, by, reason)
    click.echo(f"rejected {row.id} ({row.summary})")


@main.command("apply")
@click.argument("proposal_id")
@config_option
@click.option("--no-checkov", is_flag=True, help="Skip checkov if the plan must be re-scored.")
@output_option
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handles_errors
def apply_cmd(proposal_id: str, config_path: Path | None, no_checkov: bool, output: str, quiet: bool) -> None:
    """Apply an approved proposal, after re-checking that its plan is still fresh.

    \b
    A revert applies its saved plan only if the state serial/lineage, the code and the plan file's
    sha256 are unchanged since it was scored; otherwise the drift is re-detected, re-planned and
    re-scored, and only a fix that verifies and is not blocked is applied. A fresh plan then
    confirms the drift is gone. An adopt writes its verified edit into the code and records the
    refreshed object in state; if the drift remains, the edit is rolled back.
    Exit codes: 0 applied, 2 not applied (stale or failed), 1 error.
    """
    from driftctl import core

    rt = _runtime(config_path, quiet)
    result = core.apply_proposal(rt, proposal_id, core.ReconcileOptions(checkov=not no_checkov))
    if output == "json":
        _emit_json(dataclasses.asdict(result))
    else:
        click.echo(f"{result.proposal} {result.address}: {result.status}: {result.message}")
    sys.exit(0 if result.status == "applied" else 2)


@main.group()
def breaker() -> None:
    """Per-workspace breakers: N consecutive failed heals turn auto-apply off until reset."""


@breaker.command("status")
@config_option
@output_option
@handles_errors
def breaker_status(config_path: Path | None, output: str) -> None:
    """Show every workspace's breaker."""
    rt = _runtime(config_path, True)
    rows = rt.store.breakers()
    if output == "json":
        _emit_json([r.model_dump() for r in rows])
        return
    if not rows:
        click.echo("no breaker has tripped or counted a failure yet")
    for r in rows:
        state = click.style("OPEN", fg="red") if r.open else "closed"
        click.echo(f"{r.workspace:<16} {state:<6} {r.failures} consecutive failed heal(s)  {r.reason or ''}")


@breaker.command("reset")
@click.argument("workspace")
@config_option
@handles_errors
def breaker_reset(workspace: str, config_path: Path | None) -> None:
    """Close WORKSPACE's breaker: auto-apply is allowed again."""
    rt = _runtime(config_path, True)
    rt.store.reset_breaker(workspace)
    rt.audit("alert", "breaker_reset", {"message": f"breaker of {workspace} reset"}, workspace=workspace)
    click.echo(f"breaker of {workspace} is closed")


@main.group()
def scenarios() -> None:
    """Drift scenarios on the sandbox: inject, reconcile, check the outcome (see scenarios/)."""


scenarios_dir_option = click.option(
    "--scenarios-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of scenario files (default: scenarios/ of this checkout).",
)


def _scenarios_dir(directory: Path | None) -> Path:
    from driftctl.sandbox.sandbox import source_root

    return directory or source_root() / "scenarios"


@scenarios.command("list")
@scenarios_dir_option
@output_option
@handles_errors
def scenarios_list(scenarios_dir: Path | None, output: str) -> None:
    """List the scenarios and what each injects."""
    from driftctl.scenarios.spec import load_scenarios

    loaded = load_scenarios(_scenarios_dir(scenarios_dir))
    if output == "json":
        _emit_json([sf.scenario.model_dump() for sf in loaded])
        return
    for sf in loaded:
        s = sf.scenario
        click.echo(f"{s.name:<28} {s.mode:<8} {s.summary}")


@scenarios.command("run")
@click.argument("names", nargs=-1)
@scenarios_dir_option
@sandbox_dir_option
@no_checkov_option
@output_option
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handles_errors
def scenarios_run(
    names: tuple[str, ...],
    scenarios_dir: Path | None,
    directory: Path | None,
    no_checkov: bool,
    output: str,
    quiet: bool,
) -> None:
    """Run scenarios (all, or NAMES) against the sandbox with the real reconcile pipeline.

    \b
    Each scenario starts from a clean baseline (code restored, reality healed), injects its
    out-of-band changes, runs reconcile in its mode, and checks the findings, decisions,
    outcomes and end state it expects. Prints a table: detected, decision → outcome, healed,
    seconds from injection to the verified heal. Starts the sandbox if it is not running.
    Uses its own audit database under the sandbox directory. Exit code 0 if all pass, 1 if not.
    """
    from driftctl.assess.engine import AssessOptions
    from driftctl.report.scenarios import render_scenarios
    from driftctl.scenarios.runner import open_run
    from driftctl.scenarios.spec import load_scenarios

    loaded = load_scenarios(_scenarios_dir(scenarios_dir), names)
    say = (lambda _m: None) if quiet else _progress
    sb = _sandbox(directory, progress=not quiet)
    from driftctl.sandbox.server import running_server

    if running_server(sb.layout) is None or not sb.layout.config_file.is_file():
        sb.up(reattach=True)
    run = open_run(
        sb, sb.layout.root / ".driftctl-scenarios", assess=AssessOptions(checkov=not no_checkov), progress=say
    )
    results = [run.run(sf) for sf in loaded]
    run.restore()
    color = output == "console" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(render_scenarios(results, output, color=color), nl=False)
    sys.exit(0 if all(r.passed for r in results) else EXIT_ERROR)


def _register_audit() -> None:
    from driftctl.audit.cli import audit

    main.add_command(audit)


# -- doctor ---------------------------------------------------------------------------------------
@main.command()
@click.option("--terraform", "terraform_path", default=None, help="Check this Terraform binary first.")
@output_option
@handles_errors
def doctor(terraform_path: str | None, output: str) -> None:
    """Show which Terraform and sandbox provider driftctl would use, and what is missing."""
    from driftctl.doctor import run_checks

    report = run_checks(terraform_path)
    if output == "json":
        _emit_json(report.to_dict())
    else:
        for check in report.checks:
            mark = click.style("ok  ", fg="green") if check.ok else click.style("MISS", fg="red")
            click.echo(f"{mark} {check.name:<22} {check.detail}")
    if not report.ok:
        sys.exit(EXIT_ERROR)


# -- sandbox --------------------------------------------------------------------------------------
@main.group()
def sandbox() -> None:
    """A local AWS stand-in (moto + a sandbox provider) with a sample stack to drift and heal.

    Nothing here touches real AWS: the sandbox provider refuses any endpoint that is not loopback.
    """


def _sandbox(directory: Path | None, progress: bool = True) -> Any:
    from driftctl.sandbox.layout import SandboxLayout
    from driftctl.sandbox.sandbox import Sandbox

    return Sandbox(SandboxLayout.resolve(directory), progress=_progress if progress else None)


@sandbox.command("up")
@sandbox_dir_option
@click.option("--no-apply", is_flag=True, help="Start moto and write the mirror, but do not apply the stack.")
@click.option(
    "--reattach/--no-reattach",
    default=True,
    show_default=True,
    help="Keep one provider running for Terraform to reattach to (plans ~5x faster) instead of "
    "Terraform starting the provider for every command.",
)
@output_option
@handles_errors
def sandbox_up(directory: Path | None, no_apply: bool, reattach: bool, output: str) -> None:
    """Start moto on 127.0.0.1, install the provider mirror, apply the sample stack.

    Idempotent: a running sandbox is reused and the stack is only re-applied if it changed.
    """
    sb = _sandbox(directory)
    report = sb.up(apply=not no_apply, reattach=reattach)
    if output == "json":
        _emit_json(
            {
                "endpoint": report.server.endpoint,
                "pid": report.server.pid,
                "server_started": report.server_started,
                "workspace": str(report.workspace),
                "changed": report.changed,
                "resources": list(report.resources),
                "timings_s": {k: round(v, 3) for k, v in report.timings.items()},
            }
        )
        return
    click.echo(f"moto endpoint  {report.server.endpoint} (pid {report.server.pid})")
    click.echo(f"workspace      {report.workspace}")
    click.echo(f"resources      {len(report.resources)}{'' if report.changed else ' (already up to date)'}")
    for address in report.resources:
        click.echo(f"  {address}")
    click.echo(f"took           {report.timings.get('total', 0.0):.1f}s")
    click.echo("\nTry:  driftctl sandbox drift sg-open-world   then   driftctl sandbox plan")


@sandbox.command("down")
@sandbox_dir_option
@handles_errors
def sandbox_down(directory: Path | None) -> None:
    """Stop moto and delete the sandbox directory (state included)."""
    sb = _sandbox(directory)
    was_running = sb.down()
    click.echo("sandbox stopped and removed" if was_running else "no sandbox was running; directory removed")


@sandbox.command("status")
@sandbox_dir_option
@output_option
@handles_errors
def sandbox_status(directory: Path | None, output: str) -> None:
    """Is the sandbox running, where, and what does its state hold."""
    from driftctl.sandbox.server import running_server

    sb = _sandbox(directory, progress=False)
    server = running_server(sb.layout)
    resources = (
        sorted(sb.resources()) if server and (sb.layout.workspace / "terraform.tfstate").exists() else []
    )
    if output == "json":
        _emit_json(
            {
                "running": server is not None,
                "endpoint": server.endpoint if server else None,
                "directory": str(sb.layout.root),
                "resources": resources,
            }
        )
    elif server is None:
        click.echo(f"not running ({sb.layout.root})")
    else:
        click.echo(f"running at {server.endpoint} (pid {server.pid}), {len(resources)} resources in state")
    if server is None:
        sys.exit(EXIT_ERROR)


@sandbox.command("env")
@sandbox_dir_option
@handles_errors
def sandbox_env(directory: Path | None) -> None:
    """Print `export` lines so plain `terraform` and the AWS CLI use the sandbox.

    \b
    eval "$(driftctl sandbox env)"
    cd .driftctl/sandbox/stack/terraform/sandbox && terraform plan
    """
    sb = _sandbox(directory, progress=False)
    for key, value in sorted(sb.env().items()):
        click.echo(f"export {key}={shlex.quote(value)}")


@sandbox.command("mutations")
@output_option
def sandbox_mutations(output: str) -> None:
    """List the named out-of-band changes `sandbox drift` can make."""
    from driftctl.sandbox.drift import MUTATIONS

    if output == "json":
        _emit_json(
            [{"name": m.name, "types": list(m.types), "summary": m.summary} for m in MUTATIONS.values()]
        )
        return
    for m in MUTATIONS.values():
        click.echo(f"{m.name:<20} {m.summary}  [{', '.join(m.types)}]")


@sandbox.command("drift")
@click.argument("mutation")
@click.option(
    "--address", default=None, help="Resource address to change (default: first of a matching type)."
)
@click.option(
    "--set", "params", multiple=True, metavar="KEY=VALUE", help="Mutation parameter, e.g. port=3389."
)
@sandbox_dir_option
@output_option
@handles_errors
def sandbox_drift(
    mutation: str, address: str | None, params: tuple[str, ...], directory: Path | None, output: str
) -> None:
    """Make an out-of-band change with boto3, as a person in the console would.

    See `driftctl sandbox mutations` for the list. Terraform's state is not touched.
    """
    parsed: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DriftctlError(f"--set expects KEY=VALUE, got {item!r}")
        parsed[key] = value
    result = _sandbox(directory, progress=False).drift(mutation, address=address, params=parsed)
    if output == "json":
        _emit_json({"mutation": result.mutation, "address": result.address, "change": result.change})
    else:
        click.echo(f"{result.address}: {result.change}")


@sandbox.command("plan", context_settings={"ignore_unknown_options": True})
@sandbox_dir_option
@click.option(
    "--refresh-only/--full", default=True, show_default=True, help="Show only drift, or a full plan."
)
@handles_errors
def sandbox_plan(directory: Path | None, refresh_only: bool) -> None:
    """Run `terraform plan` on the sample stack and show Terraform's own output.

    Exit code 2 when there is drift (--refresh-only) or a change (--full), 0 when none, 1 on error.
    """
    sb = _sandbox(directory)
    tf = sb.terraform()
    plan_file = sb.layout.root / "sandbox-plan.tfplan"
    outcome = tf.plan(refresh_only=refresh_only, out=plan_file)
    click.echo(outcome.result.stdout)
    changed = outcome.changes
    if refresh_only:
        # Terraform's -detailed-exitcode says 2 for some refresh-only plans with no drift at all;
        # the plan's own resource_drift is the honest answer.
        changed = bool(tf.show_json(plan_file).get("resource_drift"))
    plan_file.unlink(missing_ok=True)
    sys.exit(2 if changed else 0)


_register_audit()

if __name__ == "__main__":  # pragma: no cover
    main()
