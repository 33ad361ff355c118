"""`driftctl proposals list|approve|reject|apply` and `breaker`: what waits for a human (I/O: terminal).

`approve`, `reject` and `apply` are also top-level commands (the names before the `proposals` group;
scripts use them), the same commands under another name.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from driftctl.cli.common import (
    config_option,
    database_option,
    emit_json,
    handles_errors,
    output_option,
    runtime,
)


def _list_options(fn: Any) -> Any:
    for option in reversed(
        (
            config_option,
            database_option,
            click.option("--status", default=None, help="Only this status (pending, approved, applied, …)."),
            click.option("--workspace", default=None, help="Only this workspace."),
            click.option("--all", "show_all", is_flag=True, help="Include rejected, applied and superseded."),
            output_option,
        )
    ):
        fn = option(fn)
    return fn


@click.group(invoke_without_command=True, short_help="Saved proposals: list, approve, reject, apply.")
@_list_options
@click.pass_context
def proposals(ctx: click.Context, /, **options: Any) -> None:
    """Saved proposals: what reconcile would not apply on its own, and why.

    \b
    Without a subcommand, lists them (as `driftctl proposals list`).
      driftctl proposals list --workspace prod
      driftctl proposals approve ID        then: driftctl proposals apply ID
      driftctl proposals reject ID --reason "intended change"
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_proposals, **options)


@proposals.command("list", short_help="List saved proposals and why each waits.")
@_list_options
@handles_errors
def list_proposals(
    config_path: Path | None,
    database: str | None,
    status: str | None,
    workspace: str | None,
    show_all: bool,
    output: str,
) -> None:
    """List saved proposals: what reconcile would not apply on its own, and why."""
    from driftctl import core
    from driftctl.cli.wrap import wrap_indented

    rt = runtime(config_path, output == "json", database=database, read_only=True)
    open_only = status is None and not show_all
    rows = core.list_proposals(rt, status=status, workspace=workspace, open_only=open_only)
    if output == "json":
        emit_json([r.model_dump() for r in rows])
        return
    if not rows:
        click.echo("no proposals" + ("" if show_all or status else " waiting (--all shows closed ones)"))
        return
    for r in rows:
        scored = r.risk is not None and r.confidence is not None
        risk = f"risk {r.risk:.2f} conf {r.confidence:.2f}" if scored else ""
        click.echo(f"{r.id}  {r.status:<12} {r.workspace:<12} {r.summary}  {risk}")
        click.echo(wrap_indented(r.rationale, "    "))
        where = (
            (r.branch and f"branch {r.branch}")
            or (r.patch_path and f"patch {r.patch_path}")
            or (r.plan_path and f"plan {r.plan_path}")
        )
        if where:
            click.echo(f"    → {where}")


@click.command(short_help="Approve a pending proposal.")
@click.argument("proposal_id")
@config_option
@database_option
@click.option("--by", default=None, help="Who approves (default: the current user).")
@handles_errors
def approve(proposal_id: str, config_path: Path | None, database: str | None, by: str | None) -> None:
    """Approve a pending proposal; `driftctl proposals apply ID` then applies it (after re-checking it)."""
    from driftctl import core

    rt = runtime(config_path, False, database=database, read_only=True, writes=True)
    row = core.approve_proposal(rt, proposal_id, by)
    click.echo(f"approved {row.id} ({row.summary}); apply it with `driftctl proposals apply {row.id}`")


@click.command(short_help="Reject a proposal, with the reason.")
@click.argument("proposal_id")
@config_option
@database_option
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--by", default=None, help="Who rejects (default: the current user).")
@handles_errors
def reject(
    proposal_id: str, config_path: Path | None, database: str | None, reason: str, by: str | None
) -> None:
    """Reject a proposal; it stays in the audit trail with the reason."""
    from driftctl import core

    rt = runtime(config_path, False, database=database, read_only=True, writes=True)
    row = core.reject_proposal(rt, proposal_id, by, reason)
    click.echo(f"rejected {row.id} ({row.summary})")


@click.command("apply", short_help="Apply an approved proposal, re-checked first.")
@click.argument("proposal_id")
@config_option
@database_option
@click.option("--no-checkov", is_flag=True, help="Skip checkov if the plan must be re-scored.")
@click.option("--by", default=None, help="Who applies (default: the current user; kept in the audit trail).")
@output_option
@click.option("--quiet", "-q", is_flag=True, help="No progress messages on stderr.")
@handles_errors
def apply_cmd(
    proposal_id: str,
    config_path: Path | None,
    database: str | None,
    no_checkov: bool,
    by: str | None,
    output: str,
    quiet: bool,
) -> None:
    """Apply an approved proposal, after re-checking that its plan is still fresh.

    \b
    A revert applies its saved plan only if the state serial/lineage, the code and the plan file's
    sha256 are unchanged since it was scored; otherwise the drift is re-detected, re-planned and
    re-scored, and only a fix that verifies and is not blocked is applied. A fresh plan then
    confirms the drift is gone. An adopt writes its verified edit into the code and records the
    refreshed object in state; if the drift remains, the edit is rolled back.
    Exit codes: 0 applied, 2 not applied (stale or failed), 1 error.
    """
    from driftctl import core

    rt = runtime(config_path, quiet or output == "json", database=database, read_only=True, writes=True)
    options = core.ReconcileOptions(checkov=not no_checkov)
    result = core.apply_proposal(rt, proposal_id, options, by=by)
    if output == "json":
        emit_json(dataclasses.asdict(result))
    else:
        click.echo(f"{result.proposal} {result.address}: {result.status}: {result.message}")
    sys.exit(0 if result.status == "applied" else 2)


@click.group(short_help="Per-workspace breakers: status and reset.")
def breaker() -> None:
    """Per-workspace breakers: N consecutive failed heals turn auto-apply off until reset."""


@breaker.command("status")
@config_option
@database_option
@output_option
@handles_errors
def breaker_status(config_path: Path | None, database: str | None, output: str) -> None:
    """Show every workspace's breaker."""
    rt = runtime(config_path, output == "json", database=database, read_only=True)
    rows = rt.store.breakers()
    if output == "json":
        emit_json([r.model_dump() for r in rows])
        return
    if not rows:
        click.echo("no breaker has tripped or counted a failure yet")
    for r in rows:
        state = click.style("OPEN", fg="red") if r.open else "closed"
        click.echo(f"{r.workspace:<16} {state:<6} {r.failures} consecutive failed heal(s)  {r.reason or ''}")


@breaker.command("reset")
@click.argument("workspace")
@config_option
@database_option
@handles_errors
def breaker_reset(workspace: str, config_path: Path | None, database: str | None) -> None:
    """Close WORKSPACE's breaker: auto-apply is allowed again."""
    rt = runtime(config_path, False, database=database, read_only=True, writes=True)
    rt.store.reset_breaker(workspace)
    rt.audit("alert", "breaker_reset", {"message": f"breaker of {workspace} reset"}, workspace=workspace)
    click.echo(f"breaker of {workspace} is closed")


for _command in (approve, reject, apply_cmd):
    proposals.add_command(_command, _command.name if _command is not apply_cmd else "apply")


def _alias(command: click.Command, canonical: str) -> click.Command:
    alias = copy.copy(command)
    alias.short_help = f"Same as `driftctl {canonical}`."
    return alias


# The top-level names scripts already call (COMMANDS in driftctl/cli/__init__.py).
approve_alias = _alias(approve, "proposals approve")
reject_alias = _alias(reject, "proposals reject")
apply_alias = _alias(apply_cmd, "proposals apply")
