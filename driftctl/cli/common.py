"""What every `driftctl` command shares: errors, common options, runtime, sandbox (I/O: terminal)."""

from __future__ import annotations

import functools
import json
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
sandbox_dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sandbox directory (default: $DRIFTCTL_SANDBOX_DIR or ./.driftctl/sandbox).",
)


def progress(message: str) -> None:
    """One progress line on stderr."""
    click.echo(click.style("· ", fg="cyan") + message, err=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def llm_drafter(config_path: Path | None, drafter: str) -> tuple[Any, int]:
    """The LLM drafter asked for (``llm``), or configured (``auto``), and its redraft budget; else None.

    Endpoint: the `llm:` section of driftctl.yaml, overridden by DRIFTCTL_LLM_BASE_URL and
    DRIFTCTL_LLM_MODEL; the key is read from the environment variable it names (the same resolution
    as the core's runtime).
    """
    if drafter == "rules":
        return None, 2
    from driftctl.config import find_config, load_config
    from driftctl.reconcile.options import ReconcileOptions
    from driftctl.reconcile.runtime import configured_llm
    from driftctl.reconcile.runtime import llm_drafter as build

    path = config_path or find_config()
    settings = configured_llm(load_config(path).llm if path is not None else None)
    return build(ReconcileOptions(drafter=drafter), settings)  # type: ignore[arg-type]  # a click.Choice


def runtime(config_path: Path | None, quiet: bool) -> Any:
    """The runtime every reconcile-side command shares, built by the core (the one place)."""
    from driftctl.core import build_runtime

    return build_runtime(config_path, progress=(lambda _m: None) if quiet else progress)


def open_sandbox(directory: Path | None, show_progress: bool = True) -> Any:
    from driftctl.sandbox.layout import SandboxLayout
    from driftctl.sandbox.sandbox import Sandbox

    return Sandbox(SandboxLayout.resolve(directory), progress=progress if show_progress else None)
