"""`driftctl runs`: one line per reconcile run, read from the audit trail (I/O: database, terminal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from driftctl.cli.common import config_option, database_option, emit_json, handles_errors, output_option
from driftctl.cli.since import parse_when

HEALED = ("healed",)
PROPOSED = ("proposed", "awaiting_apply", "needs_human", "blocked")
FAILED = ("heal_failed",)


def summarize_runs(entries: list[Any]) -> list[dict[str, Any]]:
    """Each run's start and finish entries folded into one summary, oldest first."""
    runs: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e.kind != "run" or e.run_id is None:
            continue
        run = runs.setdefault(
            e.run_id,
            {
                "run_id": e.run_id,
                "started_at": e.ts,
                "mode": None,
                "dry_run": False,
                "workspaces": [],
                "findings": 0,
                "healed": 0,
                "proposed": 0,
                "failed": 0,
                "exit_code": None,
                "finished": False,
            },
        )
        if e.status == "started":
            run.update(
                started_at=e.ts,
                mode=e.data.get("mode"),
                dry_run=bool(e.data.get("dry_run")),
                workspaces=list(e.data.get("workspaces") or []),
            )
        elif e.status == "finished":
            outcomes = [
                str(item).rsplit(": ", 1)[-1]
                for items in (e.data.get("outcomes") or {}).values()
                for item in items
            ]
            statuses = e.data.get("workspaces") or {}
            run.update(
                finished=True,
                exit_code=e.data.get("exit_code"),
                workspaces=run["workspaces"] or sorted(statuses),
                findings=len(outcomes),
                healed=sum(o in HEALED for o in outcomes),
                proposed=sum(o in PROPOSED for o in outcomes),
                failed=sum(o in FAILED for o in outcomes) + sum(1 for s in statuses.values() if s == "error"),
            )
    return sorted(runs.values(), key=lambda r: (r["started_at"], r["run_id"]))


def _line(run: dict[str, Any]) -> str:
    when = run["started_at"][:19].replace("T", " ")
    workspaces = ",".join(run["workspaces"]) or "-"
    mode = (run["mode"] or "config") + (" dry-run" if run["dry_run"] else "")
    if not run["finished"]:
        return f"{when}  {run['run_id']}  {mode:<14} {workspaces}  (did not finish)"
    return (
        f"{when}  {run['run_id']}  {mode:<14} {workspaces}  {run['findings']} findings: "
        f"{run['healed']} healed, {run['proposed']} proposed, {run['failed']} failed  "
        f"(exit {run['exit_code']})"
    )


@click.command(short_help="One line per reconcile run: what driftctl did, when.")
@click.option("--since", default=None, metavar="WHEN", help="Runs from this time: ISO 8601, or 24h, 7d, 30m.")
@click.option("--until", default=None, metavar="WHEN", help="Runs before this time (same forms).")
@click.option("--workspace", default=None, help="Only runs that covered this workspace.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N runs.")
@output_option
@config_option
@database_option
@handles_errors
def runs(
    since: str | None,
    until: str | None,
    workspace: str | None,
    limit: int,
    output: str,
    config_path: Path | None,
    database: str | None,
) -> None:
    """One line per reconcile run: when, workspaces, findings, healed, proposed, failed.

    \b
    "What did it do yesterday?":
      driftctl runs --since 24h
      driftctl runs --since 2026-11-01T00:00:00Z --until 2026-11-02T00:00:00Z -o json
    Read-only: a store that does not exist is an error, never created.
    """
    from driftctl.cli.common import open_store

    start, end = parse_when(since, "--since"), parse_when(until, "--until")
    with open_store(config_path, database, read_only=True, announce=output != "json") as store:
        entries = store.entries(kind="run", since=start, until=end)
    found = summarize_runs(entries)
    if workspace is not None:
        found = [r for r in found if workspace in r["workspaces"]]
    found = found[-limit:]
    if output == "json":
        emit_json(found)
        return
    if not found:
        click.echo("no runs" + (" in that window" if since or until else " recorded yet"))
        return
    for run in found:
        click.echo(_line(run))
