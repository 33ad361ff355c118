"""`driftctl scenarios`: run drift scenarios against the sandbox (I/O: terminal, sandbox)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from driftctl.cli.common import (
    emit_json,
    handles_errors,
    no_checkov_option,
    open_sandbox,
    output_option,
    progress,
    sandbox_dir_option,
)
from driftctl.errors import EXIT_ERROR


@click.group(short_help="Drift scenarios on the sandbox: inject, reconcile, check.")
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
        emit_json([sf.scenario.model_dump() for sf in loaded])
        return
    for sf in loaded:
        s = sf.scenario
        click.echo(f"{s.name:<28} {s.mode:<8} {s.summary}")


@scenarios.command("run", short_help="Run scenarios against the sandbox; a table of outcomes.")
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
    from driftctl.assess.checkov_scan import warm_up
    from driftctl.assess.engine import AssessOptions
    from driftctl.report.scenarios import render_scenarios
    from driftctl.scenarios.runner import open_run
    from driftctl.scenarios.spec import load_scenarios

    loaded = load_scenarios(_scenarios_dir(scenarios_dir), names)
    if not no_checkov:
        warm_up()  # checkov imports itself while the sandbox starts
    say = (lambda _m: None) if quiet else progress
    sb = open_sandbox(directory, show_progress=not quiet)
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
