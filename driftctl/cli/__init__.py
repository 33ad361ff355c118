"""The `driftctl` command line: thin commands that parse, call the core and render (I/O: terminal).

Each command lives in its own module and is imported only when it runs (or when `--help` lists it):
the command modules import nothing heavy at module level, so `driftctl detect` never loads the audit
store (SQLAlchemy), the LLM client or moto. ``tests/unit/cli/test_import_budget.py`` keeps it so.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import click

from driftctl import __version__
from driftctl.errors import EXIT_ERROR

# command name → "module:attribute" under driftctl.cli
COMMANDS: dict[str, str] = {
    "detect": "detect:detect",
    "propose": "propose:propose",
    "assess": "assess:assess",
    "reconcile": "reconcile:reconcile",
    "proposals": "proposals:proposals",
    "approve": "proposals:approve_alias",
    "reject": "proposals:reject_alias",
    "apply": "proposals:apply_alias",
    "breaker": "proposals:breaker",
    "ledger": "ledger:ledger",
    "scenarios": "scenarios:scenarios",
    "audit": "audit:audit",
    "doctor": "doctor:doctor",
    "runs": "runs:runs",
    "sandbox": "sandbox:sandbox",
    "serve": "serve:serve",
    "trigger": "serve:trigger",
    "worker": "worker:worker",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented lazy-loading pattern).

    It is also where usage errors get their exit code: click exits 2 on a bad flag or argument, which is
    driftctl's "drift found". Every command and subcommand is parsed inside this group's
    ``make_context``/``invoke``, so a usage error anywhere under it exits 1 (``EXIT_ERROR``) instead.
    """

    def __init__(self, *args: Any, lazy_commands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, attr = self.lazy_commands[cmd_name].split(":")
            command = getattr(importlib.import_module(f"driftctl.cli.{module_name}"), attr)
            if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
                raise TypeError(f"driftctl.cli.{module_name}:{attr} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with _usage_errors_exit_1():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _usage_errors_exit_1():
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:
        # click exits with the instance's code; the class default is 2 (driftctl's "drift found").
        exc.exit_code = EXIT_ERROR  # type: ignore[misc]
        raise


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="driftctl")
def main() -> None:
    """driftctl keeps Terraform/OpenTofu infrastructure healed.

    It runs `terraform plan` against state, finds what changed outside Terraform (drift), drafts a
    verified fix for each finding and applies only the fixes that are small, safe and well
    understood. Everything else becomes a proposal for a human.

    \b
    Exit codes: 0 clean, 2 drift found (like `terraform plan -detailed-exitcode`), 1 error —
    usage errors (an unknown flag, a bad value) included, so 2 always means drift;
    `reconcile` adds 3 (every finding healed) and 4 (a workspace skipped: locked).

    Start with `driftctl doctor`, then `driftctl sandbox up` for a local cloud to try it on.
    """


__all__ = ["COMMANDS", "main"]
