"""`driftctl detect`: find drift, per resource and attribute (I/O: terminal, files)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from driftctl.cli.common import (
    config_option,
    detect_ledger,
    handles_errors,
    progress,
)

# driftctl.models.Severity, least severe first; spelled out so `--help` does not import the models
# (tests/unit/cli/test_names.py keeps the two equal).
SEVERITY_CHOICES = ("info", "low", "medium", "high", "critical")


@click.command(short_help="Find drift: what changed outside Terraform, per attribute.")
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
@click.option(
    "--min-severity",
    type=click.Choice(SEVERITY_CHOICES),
    default=None,
    help="Report only findings at or above this severity (the rest are counted in an alert).",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITY_CHOICES),
    default="info",
    show_default=True,
    help="Exit 2 only for a finding at or above this severity; lesser drift is reported, exit 0.",
)
@click.option("--soft-fail", is_flag=True, help="Report drift but exit 0 (errors still exit 1).")
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
    min_severity: str | None,
    fail_on: str,
    soft_fail: bool,
    color: bool | None,
    quiet: bool,
) -> None:
    """Find drift: what changed outside Terraform, per resource and attribute.

    \b
    WORKSPACES are names from driftctl.yaml (default: all of them). Without a config file they are
    Terraform directories (default: the current directory).

    Pending code changes (the code differs from state) are reported apart, never as drift.
    One `terraform plan -out` + `show -json` per workspace; neither writes state.
    Exit codes: 0 no drift, 2 drift found, 1 error (a failed Terraform run is never "clean"), usage
    errors included. In CI, `--fail-on high` fails only on high or critical drift, `--soft-fail` never
    fails on drift, `--min-severity medium` leaves low and info findings out of the report.

    \b
    Examples:
      driftctl detect                                  # every workspace in ./driftctl.yaml
      driftctl detect prod -o json --out drift.json
      driftctl detect --plan-file plan.json -o sarif   # a plan your CI already made
      driftctl detect --ignore 'module.app.*:tags.*'
      driftctl detect -o sarif --out drift.sarif --fail-on high
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
    from driftctl.detect.thresholds import at_least, exit_code
    from driftctl.models import Severity

    if min_severity is not None:
        report = at_least(report, Severity(min_severity))
    # Escape codes belong on a terminal: never in a file, whatever --color says.
    use_color = out_file is None and (
        color if color is not None else (sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    )
    if output == "sarif":
        text = _sarif(report, targets, policy.severity)
    else:
        text = render(report, output, color=bool(use_color) and output == "console")
    if out_file is not None:
        from driftctl.errors import DriftctlError
        from driftctl.fileio import write_text_safely

        try:
            write_text_safely(out_file, text)  # /dev/null, a FIFO or a symlink is never replaced
        except OSError as exc:
            raise DriftctlError(f"cannot write the report to {out_file}: {exc.strerror or exc}") from None
        if not quiet:
            progress(f"report written to {out_file}")
    else:
        click.echo(text, nl=not text.endswith("\n"))
    sys.exit(exit_code(report, fail_on=Severity(fail_on), soft_fail=soft_fail))


def _sarif(report: Any, targets: Any, rules: Any) -> str:
    """SARIF whose results point at each resource block's file and line, with the rules' descriptions."""
    from driftctl.detect.locations import resource_locations
    from driftctl.report.sarif import SarifOutput

    descriptions = {r.id: r.description for r in rules.rules if r.description}
    descriptions["default"] = f"No severity rule matched: the default severity, {rules.default.value}"
    return SarifOutput().render(
        report, locations=resource_locations(report, targets), descriptions=descriptions
    )
