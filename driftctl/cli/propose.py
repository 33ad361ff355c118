"""`driftctl propose`: draft and verify a fix per finding, apply nothing (I/O: terminal)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from driftctl.cli.common import (
    config_option,
    handles_errors,
    llm_drafter,
    output_option,
    progress,
)
from driftctl.errors import EXIT_ERROR, DriftctlError


@click.command(short_help="Draft and verify a fix per drift; apply nothing.")
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
    type=click.Choice(["auto", "rules", "llm"]),
    default="auto",
    show_default=True,
    help="auto: the LLM when driftctl.yaml has an `llm:` section (or DRIFTCTL_LLM_BASE_URL and "
    "DRIFTCTL_LLM_MODEL are set), else the rules drafter. llm: an OpenAI-compatible endpoint (key in "
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
    llm, attempts = llm_drafter(config_path, drafter, quiet)
    options = ProposeOptions(
        address=address, strategy=Strategy(strategy) if strategy else None, llm=llm, max_attempts=attempts
    )
    report = propose_workspace(
        targets[0], load_severity_rules(None), options, (lambda _m: None) if quiet else progress
    )
    from driftctl.cli.wrap import width

    color = output == "console" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(render_proposals(report, output, color=color, width=width()), nl=False)
    if report.error is not None:
        sys.exit(EXIT_ERROR)
    blocked = any(p.decision is not None and p.decision.kind.value == "block" for p in report.proposals)
    sys.exit(0 if all(p.accepted for p in report.proposals) and not blocked else 2)
