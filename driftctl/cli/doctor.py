"""`driftctl doctor`: which Terraform and provider driftctl would use (I/O: terminal)."""

from __future__ import annotations

import sys

import click

from driftctl.cli.common import (
    emit_json,
    handles_errors,
    output_option,
)
from driftctl.errors import EXIT_ERROR


@click.command(short_help="Which Terraform and provider driftctl would use.")
@click.option("--terraform", "terraform_path", default=None, help="Check this Terraform binary first.")
@output_option
@handles_errors
def doctor(terraform_path: str | None, output: str) -> None:
    """Show which Terraform and sandbox provider driftctl would use, and what is missing."""
    from driftctl.doctor import run_checks

    report = run_checks(terraform_path)
    if output == "json":
        emit_json(report.to_dict())
    else:
        for check in report.checks:
            mark = click.style("ok  ", fg="green") if check.ok else click.style("MISS", fg="red")
            click.echo(f"{mark} {check.name:<22} {check.detail}")
    if not report.ok:
        sys.exit(EXIT_ERROR)
