"""Run a fleet worker: apply procrastinate's schema, then take jobs until stopped, reconnecting when the
database goes away (I/O: Postgres, signals, and Terraform through the jobs).

procrastinate's worker already survives short outages in its connection pool; when the database is
gone long enough for the worker itself to fail (a Postgres restart drops every connection, including
the one listening for new jobs, after which procrastinate stops the worker), this loop opens a new app
and carries on, with a capped backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from driftctl.fleet.jobs import QUEUE, Fleet, build_app

if TYPE_CHECKING:
    from driftctl.fleet.events import Consumer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    name: str
    concurrency: int = 1
    init_schema: bool = True
    max_backoff_s: float = 10.0
    events: bool = False  # also consume the configured event queue in this process


def apply_schema(fleet: Fleet) -> bool:
    """Create procrastinate's tables if this database has none yet; whether it did. Idempotent, and safe
    when several workers start at once (serialised by an advisory lock)."""
    import psycopg

    from driftctl.fleet.jobs import conninfo

    app = build_app(fleet)
    with psycopg.connect(conninfo(fleet.database_url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(7316001)")
        try:
            row = conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
            if row is not None and row[0]:
                return False
            with app.open():
                app.schema_manager.apply_schema()
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(7316001)")


def run_worker(fleet: Fleet, options: WorkerOptions, *, on_start: Callable[[], None] | None = None) -> None:
    """Take jobs until SIGTERM/SIGINT; reconnect after a lost database."""
    if options.init_schema:
        apply_schema(fleet)
    asyncio.run(_run(fleet, options, on_start))


async def _run(fleet: Fleet, options: WorkerOptions, on_start: Callable[[], None] | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    consumer = _start_events(fleet) if options.events else None
    backoff = 0.5
    started = False
    try:
        while not stop.is_set():
            app = build_app(fleet)
            s = fleet.settings
            try:
                async with app.open_async():
                    worker = asyncio.ensure_future(
                        app.run_worker_async(
                            queues=[QUEUE],
                            name=options.name,
                            concurrency=options.concurrency,
                            install_signal_handlers=False,
                            update_heartbeat_interval=s.heartbeat_s,
                            stalled_worker_timeout=s.stalled_after_s,
                            fetch_job_polling_interval=1.0,
                        )
                    )
                    if not started and on_start is not None:
                        on_start()
                    started = True
                    stopping = asyncio.ensure_future(stop.wait())
                    done, _ = await asyncio.wait({worker, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    if stopping in done:
                        worker.cancel()  # procrastinate finishes the running jobs, then returns
                        await asyncio.gather(worker, return_exceptions=True)
                        return
                    stopping.cancel()
                    worker.result()  # raises what stopped the worker, if it raised
                    # procrastinate stops itself when a side task (the LISTEN connection) fails
                    raise RuntimeError("the worker stopped on its own (its database connection failed)")
            except Exception as exc:
                log.warning(
                    "worker %s lost the database (%s); reconnecting in %.1f s", options.name, exc, backoff
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff)
                backoff = min(options.max_backoff_s, backoff * 2)
    finally:
        if consumer is not None:
            consumer.stop()


def _start_events(fleet: Fleet) -> Consumer:
    from driftctl.fleet.events import start_consumer

    return start_consumer(fleet)
