"""`driftctl detect`: find drift, per resource and attribute (I/O: terminal, files)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from driftctl.cli.common import (
    config_option,
    detect_ledger,
    handles_errors,
    progress,
)


@click.command()
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
        ledger=detect_ledger(config_path, plan_files),
    )
    report = run_detect(
        targets, policy, parallel=parallel or default_parallel, progress=None if quiet else progress
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
            progress(f"report written to {out_file}")
    else:
        click.echo(text, nl=not text.endswith("\n"))
    sys.exit(report.exit_code)
