"""`driftctl serve` (the scheduled reconciler) and `driftctl trigger` (reconcile now) (I/O: terminal)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

from driftctl.cli.common import config_option, handles_errors, no_checkov_option
from driftctl.errors import ConfigError


def _config(config_path: Path | None) -> Path:
    from driftctl.config import find_config

    path = config_path or find_config()
    if path is None:
        raise ConfigError("no driftctl.yaml here; pass --config FILE", hint="driftctl sandbox up writes one")
    return path


@click.command()
@config_option
@click.option(
    "--listen",
    default=None,
    metavar="HOST:PORT",
    help="HTTP address (default: service.listen, 127.0.0.1:8080).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object a line with ts, level, step, run_id, workspace, message.",
)
@click.option(
    "--database",
    "database_url",
    default=None,
    metavar="URL",
    help="The store (default: $DRIFTCTL_DATABASE_URL, else SQLite beside driftctl.yaml).",
)
@no_checkov_option
@handles_errors
def serve(
    config_path: Path | None, listen: str | None, log_format: str, database_url: str | None, no_checkov: bool
) -> None:
    """Run the scheduled reconciler until stopped.

    \b
    Each workspace runs on its `schedule` (cron, or "@every 30s"), in its configured mode; a
    missed or interrupted window runs once at start, a window never runs twice (see docs/service.md).
    One process per store schedules (a lease); another `serve` on the same store stands by and takes
    over within lease_ttl + lease_ttl/3 seconds if the first dies.
    HTTP: /healthz, /readyz, /metrics. `driftctl trigger WS` asks it to reconcile now.
    SIGHUP reloads driftctl.yaml; SIGTERM lets a running apply finish (service.stop_grace), exits 0.
    """
    from driftctl import core
    from driftctl.forge.door import door_from_config
    from driftctl.forge.webhook import webhook_routes
    from driftctl.service import logs
    from driftctl.service.http import HttpServer, build_app
    from driftctl.service.serve import Service

    logs.setup(log_format)
    path = _config(config_path)
    runtime = core.build_runtime(path, progress=logs.progress, database_url=database_url)
    service = Service(path, runtime, checkov=not no_checkov)
    routes: list[Any] = []
    door = door_from_config(path, runtime)  # a `forge:` section: PRs, the drift issue, comment commands
    if door is not None:
        routes = webhook_routes(door)  # POST /webhooks/github, /webhooks/gitlab
        service.after_run = door.sync_workspace
    app = build_app(readiness=service.readiness, metrics=service.metrics.render, webhook_routes=routes)
    address = listen or service.settings.listen
    server = HttpServer(app, address)
    try:
        server.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {address}: {exc}") from None
    logs.log.info(
        "listening on http://%s:%s", address.rpartition(":")[0], server.port, extra={"step": "http"}
    )

    def on_stop(signum: int, _frame: Any) -> None:
        service.stopping.set()

    def on_hup(_signum: int, _frame: Any) -> None:
        service.reload_requested.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_hup)
    cut = service.run_forever()
    server.stop()
    if cut:
        sys.stderr.flush()
        os._exit(0)  # the cut-short run's thread cannot be joined; its Terraform finishes on its own
    sys.exit(0)


_EXIT = {"clean": 0, "healed": 3, "drift": 2, "skipped": 4}


@click.command()
@click.argument("workspaces", nargs=-1, required=True)
@config_option
@click.option("--database", "database_url", default=None, metavar="URL", help="The store `serve` uses.")
@click.option(
    "--wait",
    "wait_s",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Wait for the runs and exit like `reconcile` (0 clean, 3 healed, 2 drift, 4 skipped, 1 error).",
)
@handles_errors
def trigger(
    workspaces: tuple[str, ...], config_path: Path | None, database_url: str | None, wait_s: float | None
) -> None:
    """Ask `driftctl serve` to reconcile now.

    Writes a request for each of WORKSPACES to the store; the active `serve` takes it within its poll
    interval. --wait: wait for the runs and exit like `reconcile`.
    """
    import getpass

    from driftctl import core
    from driftctl.service.runs import Runs, open_service_tables

    path = _config(config_path)
    runtime = core.build_runtime(path, database_url=database_url)
    targets = core.resolve_workspaces(list(workspaces), runtime)  # unknown names → ConfigError
    open_service_tables(runtime.store)
    runs = Runs(runtime.store, holder="trigger")
    ids = {t.name: runs.request(t.name, f"{getpass.getuser()} (driftctl trigger)") for t in targets}
    for name, trigger_id in ids.items():
        click.echo(f"queued trigger {trigger_id} for {name}")
    if wait_s is None:
        return
    deadline = time.monotonic() + wait_s
    worst = 0
    for name, trigger_id in ids.items():
        while (row := runs.trigger(trigger_id)) is not None and row.finished_at is None:
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"trigger {trigger_id} for {name} did not finish within {wait_s:g}s",
                    hint="is `driftctl serve` running on this store? (curl its /readyz)",
                )
            time.sleep(0.5)
        status = row.status if row is not None else "error"
        click.echo(f"{name}: {status} (run {row.run_id if row else '?'})")
        code = _EXIT.get(status or "", 1)
        worst = code if code == 1 or worst == 0 else max(worst, code)
    sys.exit(worst)
