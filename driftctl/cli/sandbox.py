"""`driftctl sandbox`: a local AWS stand-in to drift and heal (I/O: processes, terminal)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from driftctl.cli.common import (
    emit_json,
    handles_errors,
    open_sandbox,
    output_option,
    sandbox_dir_option,
)
from driftctl.errors import EXIT_ERROR, DriftctlError


@click.group(short_help="A local cloud (moto) and a Terraform stack to try it on.")
def sandbox() -> None:
    """A local AWS stand-in (moto + a sandbox provider) with a sample stack to drift and heal.

    Nothing here touches real AWS: the sandbox provider refuses any endpoint that is not loopback.
    """


@sandbox.command("up", short_help="Start moto, write the provider mirror, apply the stack.")
@sandbox_dir_option
@click.option("--no-apply", is_flag=True, help="Start moto and write the mirror, but do not apply the stack.")
@click.option(
    "--reattach/--no-reattach",
    default=True,
    show_default=True,
    help="Keep one provider running for Terraform to reattach to (plans ~5x faster) instead of "
    "Terraform starting the provider for every command.",
)
@output_option
@handles_errors
def sandbox_up(directory: Path | None, no_apply: bool, reattach: bool, output: str) -> None:
    """Start moto on 127.0.0.1, install the provider mirror, apply the sample stack.

    Idempotent: a running sandbox is reused and the stack is only re-applied if it changed.
    """
    sb = open_sandbox(directory)
    report = sb.up(apply=not no_apply, reattach=reattach)
    if output == "json":
        emit_json(
            {
                "endpoint": report.server.endpoint,
                "pid": report.server.pid,
                "server_started": report.server_started,
                "workspace": str(report.workspace),
                "changed": report.changed,
                "resources": list(report.resources),
                "timings_s": {k: round(v, 3) for k, v in report.timings.items()},
            }
        )
        return
    click.echo(f"moto endpoint  {report.server.endpoint} (pid {report.server.pid})")
    click.echo(f"workspace      {report.workspace}")
    click.echo(f"resources      {len(report.resources)}{'' if report.changed else ' (already up to date)'}")
    for address in report.resources:
        click.echo(f"  {address}")
    click.echo(f"took           {report.timings.get('total', 0.0):.1f}s")
    click.echo("\nTry:  driftctl sandbox drift sg-open-world   then   driftctl sandbox plan")


@sandbox.command("down")
@sandbox_dir_option
@handles_errors
def sandbox_down(directory: Path | None) -> None:
    """Stop moto and delete the sandbox directory (state included)."""
    sb = open_sandbox(directory)
    was_running = sb.down()
    click.echo("sandbox stopped and removed" if was_running else "no sandbox was running; directory removed")


@sandbox.command("status")
@sandbox_dir_option
@output_option
@handles_errors
def sandbox_status(directory: Path | None, output: str) -> None:
    """Is the sandbox running, where, and what does its state hold."""
    from driftctl.sandbox.server import running_server

    sb = open_sandbox(directory, show_progress=False)
    server = running_server(sb.layout)
    resources = (
        sorted(sb.resources()) if server and (sb.layout.workspace / "terraform.tfstate").exists() else []
    )
    if output == "json":
        emit_json(
            {
                "running": server is not None,
                "endpoint": server.endpoint if server else None,
                "directory": str(sb.layout.root),
                "resources": resources,
            }
        )
    elif server is None:
        click.echo(f"not running ({sb.layout.root})")
    else:
        click.echo(f"running at {server.endpoint} (pid {server.pid}), {len(resources)} resources in state")
    if server is None:
        sys.exit(EXIT_ERROR)


@sandbox.command("env", short_help="`export` lines for terraform and the AWS CLI.")
@sandbox_dir_option
@handles_errors
def sandbox_env(directory: Path | None) -> None:
    """Print `export` lines so plain `terraform` and the AWS CLI use the sandbox.

    \b
    eval "$(driftctl sandbox env)"
    cd .driftctl/sandbox/stack/terraform/sandbox && terraform plan
    """
    sb = open_sandbox(directory, show_progress=False)
    for key, value in sorted(sb.env().items()):
        click.echo(f"export {key}={shlex.quote(value)}")


@sandbox.command("mutations")
@output_option
def sandbox_mutations(output: str) -> None:
    """List the named out-of-band changes `sandbox drift` can make."""
    from driftctl.sandbox.drift import MUTATIONS

    if output == "json":
        emit_json(
            [{"name": m.name, "types": list(m.types), "summary": m.summary} for m in MUTATIONS.values()]
        )
        return
    for m in MUTATIONS.values():
        click.echo(f"{m.name:<20} {m.summary}  [{', '.join(m.types)}]")


@sandbox.command("drift", short_help="Make an out-of-band change, as a person in the console would.")
@click.argument("mutation")
@click.option(
    "--address", default=None, help="Resource address to change (default: first of a matching type)."
)
@click.option(
    "--set", "params", multiple=True, metavar="KEY=VALUE", help="Mutation parameter, e.g. port=3389."
)
@sandbox_dir_option
@output_option
@handles_errors
def sandbox_drift(
    mutation: str, address: str | None, params: tuple[str, ...], directory: Path | None, output: str
) -> None:
    """Make an out-of-band change with boto3, as a person in the console would.

    See `driftctl sandbox mutations` for the list. Terraform's state is not touched.
    """
    parsed: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DriftctlError(f"--set expects KEY=VALUE, got {item!r}")
        parsed[key] = value
    result = open_sandbox(directory, show_progress=False).drift(mutation, address=address, params=parsed)
    if output == "json":
        emit_json({"mutation": result.mutation, "address": result.address, "change": result.change})
    else:
        click.echo(f"{result.address}: {result.change}")


@sandbox.command(
    "plan",
    context_settings={"ignore_unknown_options": True},
    short_help="Terraform's own view of the drift (plan -refresh-only).",
)
@sandbox_dir_option
@click.option(
    "--refresh-only/--full", default=True, show_default=True, help="Show only drift, or a full plan."
)
@handles_errors
def sandbox_plan(directory: Path | None, refresh_only: bool) -> None:
    """Run `terraform plan` on the sample stack and show Terraform's own output.

    Exit code 2 when there is drift (--refresh-only) or a change (--full), 0 when none, 1 on error.
    """
    sb = open_sandbox(directory)
    tf = sb.terraform()
    plan_file = sb.layout.root / "sandbox-plan.tfplan"
    outcome = tf.plan(refresh_only=refresh_only, out=plan_file)
    click.echo(outcome.result.stdout)
    changed = outcome.changes
    if refresh_only:
        # Terraform's -detailed-exitcode says 2 for some refresh-only plans with no drift at all;
        # the plan's own resource_drift is the honest answer.
        changed = bool(tf.show_json(plan_file).get("resource_drift"))
    plan_file.unlink(missing_ok=True)
    sys.exit(2 if changed else 0)
