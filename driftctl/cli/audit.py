"""`driftctl audit`: list, show, verify and export the audit trail (I/O: database, terminal).

The store (SQLModel/SQLAlchemy) is imported only when a command runs, so `driftctl --help` stays light.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from driftctl.cli.common import config_option, database_option, handles_errors, output_option
from driftctl.cli.since import parse_when
from driftctl.errors import EXIT_CLEAN, EXIT_ERROR, DriftctlError

if TYPE_CHECKING:
    from driftctl.audit.store import Entry, Store

F = TypeVar("F", bound=Callable[..., Any])
SUMMARY_WIDTH = 60


def _store_options(fn: F) -> F:
    return config_option(database_option(fn))


def _open(database: str | None, config_path: Path | None, *, announce: bool = True) -> Store:
    """The store, read-only: a missing database is "no audit trail at X", never a new empty one."""
    from driftctl.cli.common import open_store

    store: Store = open_store(config_path, database, read_only=True, announce=announce)
    return store


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def _summary(entry: Entry) -> str:
    data = entry.data
    text = next((str(data[k]) for k in ("message", "summary", "reason", "error") if data.get(k)), "")
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_WIDTH else text[: SUMMARY_WIDTH - 1] + "…"


def _row(e: Entry) -> tuple[str, ...]:
    when = e.ts[:19].replace("T", " ")
    return (str(e.seq), when, e.workspace or "-", e.kind, e.subject or "-", e.status, _summary(e))


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    short_help="The tamper-evident audit trail: list, show, verify, export.",
)
def audit() -> None:
    """The audit trail: every run, finding, decision and action driftctl took, tamper-evident.

    Entries are append-only and hash-chained: each one stores the sha256 of its own contents and
    of the entry before it, and a head record keeps the last entry's hash. `driftctl audit verify`
    recomputes the chain and names every entry that was edited, deleted or reordered since it was
    written. The chain shows tampering; it cannot undo it, so export it (`driftctl audit export`)
    somewhere append-only if you need the proof to survive someone rewriting the whole database.
    """


@audit.command("list")
@click.option("--run", "run_id", metavar="ID", default=None, help="Only entries of this run.")
@click.option("--workspace", default=None, help="Only entries of this workspace.")
@click.option("--kind", default=None, help="Only entries of this kind (run, finding, action, …).")
@click.option("--since", default=None, metavar="WHEN", help="From this time: ISO 8601, or 24h, 7d, 30m ago.")
@click.option("--until", default=None, metavar="WHEN", help="Before this time (same forms).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Newest N entries.")
@output_option
@_store_options
@handles_errors
def list_entries(
    run_id: str | None,
    workspace: str | None,
    kind: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    output: str,
    config_path: Path | None,
    database: str | None,
) -> None:
    """The newest entries, oldest of them first.

    \b
    Examples:
      driftctl audit list --since 24h                 # what happened since yesterday
      driftctl audit list --since 2026-11-01 --until 2026-11-02 --kind action
    """
    start, end = parse_when(since, "--since"), parse_when(until, "--until")
    with _open(database, config_path, announce=output != "json") as store:
        entries = store.entries(
            run_id=run_id,
            workspace=workspace,
            kind=kind,
            limit=limit,
            newest_first=True,
            since=start,
            until=end,
        )
    entries.reverse()
    if output == "json":
        _emit_json([e.to_json() for e in entries])
        return
    if not entries:
        click.echo("no audit entries")
        return
    header = ("SEQ", "TIME (UTC)", "WORKSPACE", "KIND", "SUBJECT", "STATUS", "SUMMARY")
    rows = [_row(e) for e in entries]
    click.echo(_table([header, *rows]))


@audit.command()
@click.argument("seq", type=int)
@output_option
@_store_options
@handles_errors
def show(seq: int, output: str, config_path: Path | None, database: str | None) -> None:
    """One entry in full, its data pretty-printed."""
    with _open(database, config_path, announce=output != "json") as store:
        entry = store.entry(seq)
    if entry is None:
        raise DriftctlError(f"no audit entry {seq}", hint="`driftctl audit list` shows the latest ones")
    if output == "json":
        _emit_json(entry.to_json())
        return
    for name, value in entry.to_json().items():
        if name != "data":
            click.echo(f"{name + ':':<11}{'-' if value is None else value}")
    click.echo("data:")
    click.echo(json.dumps(entry.data, indent=2, sort_keys=True, ensure_ascii=False, default=str))


@audit.command(short_help="Recompute the hash chain; exit 1 naming each problem.")
@output_option
@_store_options
@handles_errors
def verify(output: str, config_path: Path | None, database: str | None) -> None:
    """Recompute the hash chain; exit 0 when intact, 1 naming each problem when not."""
    with _open(database, config_path, announce=output != "json") as store:
        report = store.verify()
    if output == "json":
        _emit_json(report.to_json())
    elif report.ok:
        head = f"head {report.head[0]} {report.head[1][:12]}…" if report.head else "no head yet"
        click.echo(f"audit chain intact: {report.checked} rows, {head}")
    else:
        click.echo(f"audit chain BROKEN: {len(report.problems)} problem(s) in {report.checked} rows")
        for problem in report.problems:
            click.echo(f"  - {problem}")
    sys.exit(EXIT_CLEAN if report.ok else EXIT_ERROR)


@audit.command(short_help="Every entry as one JSON line, with its hashes.")
@click.option(
    "--output",
    "-o",
    "--format",
    "fmt",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="Output format (`--format` is the older name).",
)
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout)."
)
@_store_options
@handles_errors
def export(fmt: str, out_file: Path | None, config_path: Path | None, database: str | None) -> None:
    """Every entry, one canonical JSON object per line, with its hash and prev_hash."""
    with _open(database, config_path, announce=out_file is not None) as store:
        if out_file is None:
            store.export_jsonl(sys.stdout)
            return
        with out_file.open("w", encoding="utf-8", newline="\n") as out:
            count = store.export_jsonl(out)
    click.echo(f"wrote {count} entries to {out_file}", err=True)
