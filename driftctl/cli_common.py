"""What every `driftctl` command group shares: error handling and the common options (I/O: terminal)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from driftctl.errors import DriftctlError

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(fn: F) -> F:
    """Render DriftctlError as a message and its exit code; never a traceback for expected errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DriftctlError as exc:
            click.echo(exc.render(), err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["console", "json"]),
    default="console",
    show_default=True,
    help="Human-readable text, or JSON for scripts.",
)
config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="driftctl.yaml to read (default: ./driftctl.yaml if present).",
)
no_checkov_option = click.option(
    "--no-checkov", is_flag=True, help="Skip checkov (Rego policies and blast radius still run)."
)
