"""`driftctl ledger list|accept|ignore`: the drift the ledger holds; a human closes it (I/O: terminal)."""

from __future__ import annotations

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


@click.group()
def ledger() -> None:
    """Drift kept open until healed, adopted, accepted or gone.

    Every finding stays an open item until it is healed, adopted, accepted or ignored by a named
    human, or gone from reality.

    \b
    Drift an apply wrote into state (a targeted revert's refresh, anyone's
    `terraform apply -refresh-only`) is no longer in any plan; the ledger keeps reporting it
    until reality matches the reviewed code again, or a named human accepts or ignores it.
    """


def _row(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "workspace": item.workspace,
        "address": item.address,
        "status": item.status.value,
        "kind": item.kind.value,
        "changes": [
            {
                "path": c.path,
                "kind": c.kind.value,
                "before": c.before,
                "after": c.after,
                "sensitive": c.sensitive,
            }
            for c in item.changes
        ],
        "first_seen": item.first_seen.isoformat(),
        "last_seen": item.last_seen.isoformat(),
        "times_seen": item.times_seen,
        "absorbed_at": item.absorbed_at.isoformat() if item.absorbed_at else None,
        "absorbed_by": item.absorbed_by,
        "closed_at": item.closed_at.isoformat() if item.closed_at else None,
        "closed_by": item.closed_by,
        "reason": item.reason,
        "flapping_since": item.flapping_since.isoformat() if item.flapping_since else None,
    }


@ledger.command("list")
@click.argument("workspace")
@config_option
@database_option
@click.option("--all", "show_all", is_flag=True, help="Include closed items (the history).")
@output_option
@handles_errors
def list_items(
    workspace: str, config_path: Path | None, database: str | None, show_all: bool, output: str
) -> None:
    """Drift items of a workspace (--all: the history too)."""
    from driftctl.ledger.store import LedgerStore

    rt = runtime(config_path, True, database=database, read_only=True)
    store = LedgerStore(rt.store)
    items = store.history(workspace) if show_all else store.open_items(workspace)
    if output == "json":
        emit_json([_row(i) for i in items])
        return
    if not items:
        click.echo(f"no {'' if show_all else 'open '}drift items in {workspace}")
        return
    for i in items:
        seen = f"first seen {i.first_seen:%Y-%m-%d %H:%M}Z, seen {i.times_seen}x"
        click.echo(f"{i.status.value:<9} {i.address}  ({seen})")
        for c in i.changes:
            click.echo(f"    {c.path}: {c.before!r} → {c.after!r}")
        if i.absorbed_at is not None:
            by = f"run {i.absorbed_by}" if i.absorbed_by else "an unknown apply"
            click.echo(f"    absorbed into state at {i.absorbed_at:%Y-%m-%d %H:%M}Z by {by}")
        if i.closed_by:
            click.echo(f"    closed by {i.closed_by}" + (f": {i.reason}" if i.reason else ""))


def _current_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _close(
    workspace: str,
    address: str,
    status: str,
    config_path: Path | None,
    database: str | None,
    by: str | None,
    reason: str,
) -> None:
    from driftctl.errors import DriftctlError
    from driftctl.ledger.model import ItemStatus

    rt = runtime(config_path, True, database=database, read_only=True, writes=True)
    assert rt.policy.ledger is not None
    try:
        item = rt.policy.ledger.close(workspace, address, ItemStatus(status), by or _current_user(), reason)
    except LookupError as exc:
        raise DriftctlError(
            str(exc), hint=f"`driftctl ledger list {workspace}` shows the open items"
        ) from None
    click.echo(f"{item.address}: {item.status.value} by {item.closed_by} ({reason})")


@ledger.command()
@click.argument("workspace")
@click.argument("address")
@config_option
@database_option
@click.option("--reason", required=True, help="Why reality is fine as it is (kept in the audit trail).")
@click.option("--by", default=None, help="Who accepts (default: the current user).")
@handles_errors
def accept(
    workspace: str, address: str, config_path: Path | None, database: str | None, reason: str, by: str | None
) -> None:
    """Accept an item's drift as it is (you are named).

    The ledger stops carrying ADDRESS's drift in WORKSPACE.

    For drift only the ledger still knows about (absorbed into state). Drift a plan still shows comes
    back as a new item on the next run: adopt it, or write an ignore rule with an owner and expiry.
    """
    _close(workspace, address, "accepted", config_path, database, by, reason)


@ledger.command()
@click.argument("workspace")
@click.argument("address")
@config_option
@database_option
@click.option("--reason", required=True, help="Why it may be ignored (kept in the audit trail).")
@click.option("--by", default=None, help="Who ignores it (default: the current user).")
@handles_errors
def ignore(
    workspace: str, address: str, config_path: Path | None, database: str | None, reason: str, by: str | None
) -> None:
    """Ignore an item's drift (you are named).

    The ledger stops carrying ADDRESS's drift in WORKSPACE (see `accept` for the limits).
    """
    _close(workspace, address, "ignored", config_path, database, by, reason)
