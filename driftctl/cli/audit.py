"""`driftctl audit`: list, show, verify, export and anchor the audit trail, rotate its key (I/O:
database, terminal, anchor files, git).

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

    Entries are append-only and hash-chained with a key kept outside the database: each one stores the
    HMAC-SHA256 of its own contents and of the entry before it, and a signed head record keeps the
    last entry's hash. `driftctl audit verify` recomputes the chain and names every entry that was
    edited, deleted, forged or reordered, and every proposal whose status or content differs from
    the chain. `driftctl audit anchor` writes the head outside the store so `verify --anchor` can
    prove no row was cut from the end since.
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


_REPO_OPTION = click.option(
    "--repo",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The git repository holding an anchor ref (refs/...).",
)


@audit.command(short_help="Recompute the keyed chain; exit 1 naming each problem.")
@click.option(
    "--anchor",
    "anchors",
    metavar="FILE|REF",
    multiple=True,
    help="Also prove no row was removed since the anchor(s) in FILE or on the git ref refs/... (repeatable).",
)
@_REPO_OPTION
@output_option
@_store_options
@handles_errors
def verify(
    anchors: tuple[str, ...], repo: Path, output: str, config_path: Path | None, database: str | None
) -> None:
    """Recompute the keyed chain and check every proposal against it; exit 0 when intact, 1 naming
    each problem (the row, the proposal or the anchor) when not."""
    from driftctl.audit.anchor import check_anchor, read_anchors

    with _open(database, config_path, announce=output != "json") as store:
        report = store.verify()
        extra: list[str] = []
        for source in anchors:
            for anchor in read_anchors(source, repo):
                extra.extend(check_anchor(store, anchor, store.keyring))
    problems = [*report.problems, *extra]
    ok = report.ok and not extra
    if output == "json":
        _emit_json({**report.to_json(), "ok": ok, "problems": problems, "anchors": list(anchors)})
    elif ok:
        head = f"head {report.head[0]} {report.head[1][:12]}…" if report.head else "no head yet"
        anchored = f"; no row removed since {len(anchors)} anchor source(s)" if anchors else ""
        click.echo(f"audit chain intact: {report.checked} rows, {head}{anchored}")
    else:
        click.echo(f"audit chain BROKEN: {len(problems)} problem(s) in {report.checked} rows")
        for problem in problems:
            click.echo(f"  - {problem}")
    sys.exit(EXIT_CLEAN if ok else EXIT_ERROR)


@audit.command(short_help="Write the head outside the store (a file or a git ref).")
@click.option(
    "--to",
    "target",
    metavar="FILE|REF",
    required=True,
    help="Append the anchor to FILE, or commit it to the git ref REF (anything starting with refs/).",
)
@_REPO_OPTION
@_store_options
@handles_errors
def anchor(target: str, repo: Path, config_path: Path | None, database: str | None) -> None:
    """Write the head (seq, hash, MAC) outside the store, for `audit verify --anchor` to check later.

    Anchor somewhere the database's writers cannot rewrite (another host, a protected git ref):
    `verify --anchor` then proves that no row up to the anchored seq was removed or rewritten.
    """
    from driftctl.audit.anchor import current_anchor, write_anchor

    with _open(database, config_path) as store:
        found = current_anchor(store)
    click.echo(write_anchor(found, target, repo))


@audit.command("rotate-key", short_help="Add a new audit key; old keys still verify.")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The key file (default: audit.key_file of driftctl.yaml, else .driftctl/audit.key).",
)
@config_option
@handles_errors
def rotate_key(key_file: Path | None, config_path: Path | None) -> None:
    """Add a new audit key: new rows are signed with it; the old keys stay in the file to verify old rows."""
    from driftctl.audit.keys import KEY_FILE_NAME, rotate_key_file
    from driftctl.audit.store import default_database_path
    from driftctl.config import find_config, load_audit_settings

    path = config_path or find_config()
    if key_file is None and path is not None:
        settings = load_audit_settings(path)
        if settings.key_env:
            raise DriftctlError(
                f"the audit keys come from ${settings.key_env}: add a new line to it (last signs)",
                hint="generate one with `openssl rand -hex 32`; keep the old lines to verify old rows",
            )
        key_file = settings.key_file
    key_file = key_file or default_database_path(path).parent / KEY_FILE_NAME
    kid = rotate_key_file(key_file)
    click.echo(f"new audit key {kid} in {key_file}: it signs every new row; older keys still verify")


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
