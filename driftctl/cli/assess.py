"""`driftctl assess`: score a fix's saved plan (I/O: terminal, files)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from driftctl.cli.common import (
    handles_errors,
    markdown_output_option,
    progress,
)


@click.command(short_help="Score a plan: blast radius, checkov, Rego policies.")
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
@markdown_output_option
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
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
    quiet: bool,
) -> None:
    """Score any plan JSON: blast radius, checkov, Rego policies → risk, confidence, decision.

    \b
    Usable in CI the way conftest is. Every number comes with the reasons behind it. A plan scored
    without a verified draft behind it gets confidence 0.5, so it never qualifies for auto-apply.
    Exit codes: 0 not blocked (auto_apply or propose), 2 blocked by a policy deny, 1 error (a broken
    or missing policy fails closed; usage errors too). `-o markdown` is a pull-request comment.
    """
    from driftctl.assess.decide import Gate
    from driftctl.assess.engine import AssessOptions, assess_plan, load_plan_json
    from driftctl.report.assessment import render_assessment

    plan = load_plan_json(plan_file)
    if not quiet:
        progress(
            f"assessing {plan_file}: Rego policies, blast radius"
            + ("" if no_checkov else ", checkov (loading it takes a few seconds)")
        )
    report = assess_plan(
        plan,
        AssessOptions(tuple(policy_dirs), not no_shipped_policies, not no_checkov),
        Gate(mode=mode, confidence_threshold=threshold, max_risk=max_risk),
        source=str(plan_file),
    )
    click.echo(render_assessment(report, output), nl=False)
    sys.exit(2 if report.decision.kind.value == "block" else 0)
