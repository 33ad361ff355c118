"""`driftctl worker`: take reconcile jobs from the fleet's Postgres queue (I/O: database, Terraform, tty).

Run one per machine (or several): every worker reads the same driftctl.yaml and DRIFTCTL_DATABASE_URL.
procrastinate and the core are imported only when the command runs.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import click

from driftctl.cli.common import config_option, handles_errors
from driftctl.errors import ConfigError

DATABASE_URL_ENV = "DRIFTCTL_DATABASE_URL"


@click.command(short_help="Run the fleet's reconcile jobs (procrastinate on Postgres).")
@config_option
@click.option(
    "--database",
    envvar=DATABASE_URL_ENV,
    metavar="URL",
    default=None,
    help=f"The fleet's PostgreSQL (default: ${DATABASE_URL_ENV}): store and job queue in one.",
)
@click.option("--name", default=None, help="This worker's name in logs (default: host:pid).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None, help="Jobs at once in this process.")
@click.option(
    "--events", is_flag=True, help="Also consume the configured CloudTrail event queue (fleet.events)."
)
@click.option(
    "--init-schema",
    "init_only",
    is_flag=True,
    help="Create the job queue's tables in the database and exit (workers also do it on start).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log every job.")
@handles_errors
def worker(
    config_path: Path | None,
    database: str | None,
    name: str | None,
    concurrency: int | None,
    events: bool,
    init_only: bool,
    verbose: bool,
) -> None:
    """Run reconcile jobs from the fleet's queue until stopped (SIGTERM/SIGINT finish the running jobs)."""
    from driftctl.config import find_config, load_config
    from driftctl.fleet.jobs import Fleet, conninfo
    from driftctl.fleet.settings import FleetSettings
    from driftctl.fleet.worker import WorkerOptions, apply_schema, run_worker

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not database:
        raise ConfigError(f"driftctl worker needs a PostgreSQL store: set ${DATABASE_URL_ENV} or --database")
    conninfo(database)  # a clear error for a non-Postgres URL before anything else
    path = config_path or find_config()
    if path is None:
        raise ConfigError("no driftctl.yaml here; pass --config")
    config = load_config(path)
    settings = config.fleet or FleetSettings()
    if events and settings.events is None:
        raise ConfigError(f"--events needs a fleet.events section (queue_url, …) in {config.path}")
    fleet = Fleet(config_path=config.path, database_url=database, settings=settings)
    if init_only:
        created = apply_schema(fleet)
        click.echo("job queue schema created" if created else "job queue schema already present")
        return
    who = name or f"{socket.gethostname()}:{os.getpid()}"
    click.echo(f"driftctl worker {who}: {len(config.names)} workspaces, sweep {settings.sweep!r}", err=True)
    run_worker(
        fleet,
        WorkerOptions(name=who, concurrency=concurrency or settings.concurrency, events=events),
        on_start=lambda: click.echo(f"driftctl worker {who}: ready", err=True),
    )
