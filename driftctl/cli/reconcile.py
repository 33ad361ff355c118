"""`driftctl reconcile`: the heal loop over workspaces (I/O: terminal)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from driftctl.cli.common import (
    config_option,
    database_option,
    handles_errors,
    llm_drafter,
    markdown_output_option,
    no_checkov_option,
    runtime,
)


@click.command(short_help="Heal drift: detect, draft, verify, assess, decide, act.")
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
@markdown_output_option
@database_option
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
    database: str | None,
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
    4 a workspace was skipped (locked), 1 error (usage errors too). A scheduled job should treat
    0 and 3 as success.
    """
    from driftctl.assess.checkov_scan import warm_up
    from driftctl.assess.engine import AssessOptions
    from driftctl.detect.targets import resolve_targets
    from driftctl.models import Strategy
    from driftctl.reconcile.pipeline import reconcile as run_reconcile
    from driftctl.report.reconcile import render_reconcile

    if not no_checkov:
        warm_up()  # checkov imports itself while Terraform plans
    llm, attempts = llm_drafter(config_path, drafter, quiet)
    rt, path = runtime(
        config_path,
        quiet,
        database=database,
        announce=not quiet and output != "json",
        mode=mode,
        dry_run=dry_run,
        assess=AssessOptions(checkov=not no_checkov),
        llm=llm,
        max_attempts=attempts,
        strategy=Strategy(strategy) if strategy else None,
    )
    targets, _ = resolve_targets(workspaces, path, ())
    report = run_reconcile(targets, rt)
    use_color = color if color is not None else sys.stdout.isatty() and "NO_COLOR" not in os.environ
    from driftctl.cli.wrap import width

    text = render_reconcile(report, output, color=use_color and output == "console", width=width())
    click.echo(text, nl=False)
    sys.exit(report.exit_code)
