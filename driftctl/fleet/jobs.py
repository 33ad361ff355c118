"""The fleet's jobs on procrastinate: reconcile one workspace, the periodic sweep, stalled-job recovery
(I/O: Postgres, and Terraform through the core).

A reconcile job carries plain data only — the workspace name, ReconcileOptions as JSON and when it
became due — and calls the public core's ``reconcile_workspace`` on whichever worker takes it. Two
procrastinate keys keep the fleet orderly: ``lock=<workspace>`` (at most one job of a workspace runs at a
time) and ``queueing_lock=<workspace>`` (at most one waits: a burst of triggers collapses into one job).
The sweep is a periodic task, deferred once per period across all workers (procrastinate records each
periodic defer under a unique key). A worker that stops heartbeating is stalled: the recovery task
puts its jobs back in the queue, and the core's action recovery (an action left ``started`` is marked
interrupted and the workspace re-detected) makes the rerun safe.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftctl.fleet.settings import FleetSettings

if TYPE_CHECKING:
    import procrastinate

    from driftctl.core import ReconcileOptions, Runtime

log = logging.getLogger(__name__)

RECONCILE_TASK = "driftctl.reconcile"
SWEEP_TASK = "driftctl.sweep"
RECOVER_TASK = "driftctl.recover_stalled"
CLEANUP_TASK = "driftctl.remove_old_jobs"
QUEUE = "driftctl"


class WorkspaceBusy(Exception):
    """The workspace lock is held elsewhere or a concurrency cap is full: procrastinate retries the job."""


def conninfo(database_url: str) -> str:
    """A libpq connection string from the store's SQLAlchemy URL (``postgresql+psycopg://`` → ``postgresql://``)."""
    from driftctl.errors import ConfigError

    scheme, sep, rest = database_url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ConfigError(
            "driftctl worker needs a PostgreSQL store (DRIFTCTL_DATABASE_URL=postgresql+psycopg://…), "
            f"not {scheme or database_url!r}: the job queue lives in Postgres"
        )
    return f"postgresql://{rest}"


@dataclass
class Fleet:
    """What one worker process shares between its jobs: the config, the store URL, the settings, and a
    runtime built on first use (one store connection pool per process)."""

    config_path: Path
    database_url: str
    settings: FleetSettings
    clock: Any = time.time  # Callable[[], float]; injected by tests and the bench
    _runtime: Runtime | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def runtime(self) -> Runtime:
        with self._lock:
            if self._runtime is None:
                from driftctl.core import build_runtime

                rt = build_runtime(self.config_path, database_url=self.database_url)
                self._runtime = dataclasses.replace(rt, lock_ttl_s=self.settings.lock_ttl_s)
            return self._runtime

    def workspaces(self) -> list[str]:
        from driftctl.config import load_config

        return [n for n in load_config(self.config_path).names if not self.settings.opted_out(n)]

    def default_options(self, trigger: str) -> ReconcileOptions:
        from driftctl.core import ReconcileOptions

        s = self.settings
        return ReconcileOptions(
            mode=s.mode, strategy=s.strategy, drafter=s.drafter, checkov=s.checkov, trigger=trigger
        )


def run_reconcile(fleet: Fleet, workspace: str, options_json: str) -> dict[str, Any]:
    """The body of a reconcile job: caps, then the core; a busy workspace raises WorkspaceBusy."""
    from driftctl.core import ReconcileOptions, Status, reconcile_workspace, resolve_workspaces
    from driftctl.fleet.throttle import NoSlot, slots

    s = fleet.settings
    if s.opted_out(workspace):
        return {"workspace": workspace, "status": "opted_out"}
    options = ReconcileOptions.from_json(options_json)
    runtime = dataclasses.replace(fleet.runtime(), run_id=secrets.token_hex(6))  # one audited run per job
    (target,) = resolve_workspaces((workspace,), runtime)
    try:
        with slots(
            conninfo(fleet.database_url),
            fleet_cap=s.max_concurrent,
            account=s.account_of(workspace),
            account_cap=s.max_per_account,
        ):
            result = reconcile_workspace(target, runtime, options)
    except NoSlot as exc:
        raise WorkspaceBusy(str(exc)) from None
    if result.status is Status.SKIPPED and any("locked by" in a for a in result.alerts):
        raise WorkspaceBusy("; ".join(result.alerts))
    return {
        "workspace": workspace,
        "status": str(result.status),
        "items": [str(i.outcome) for i in result.items],
        "recovered": list(result.recovered),
        "error": result.error,
    }


def build_app(fleet: Fleet) -> procrastinate.App:
    """The procrastinate app of one fleet: its connector on the store's database and its three tasks."""
    import procrastinate
    from procrastinate.exceptions import AlreadyEnqueued

    s = fleet.settings
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(fleet.database_url)),
        periodic_defaults={"max_delay": 3600},
    )
    retry = procrastinate.RetryStrategy(max_attempts=s.retry_attempts, wait=int(max(1, s.retry_wait_s)))

    @app.task(name=RECONCILE_TASK, queue=QUEUE, retry=retry, pass_context=True)
    def reconcile_job(
        context: procrastinate.JobContext, workspace: str, options: str, due: float
    ) -> dict[str, Any]:
        result = run_reconcile(fleet, workspace, options)
        result["due"], result["finished"] = due, fleet.clock()
        log.info("reconciled %s: %s", workspace, result["status"])
        return result

    @app.periodic(cron=s.sweep, periodic_id="sweep")
    @app.task(name=SWEEP_TASK, queue=QUEUE, queueing_lock=SWEEP_TASK)
    async def sweep(timestamp: int) -> int:
        """Defer one reconcile per workspace; those already waiting are left as they are."""
        deferred = 0
        for workspace in fleet.workspaces():
            jitter = random.uniform(0, s.jitter_s) if s.jitter_s else 0.0
            deferred += await defer_reconcile(
                app, workspace, fleet.default_options("schedule"), due=float(timestamp) + jitter, delay=jitter
            )
        return deferred

    @app.periodic(cron=_every(s.stalled_after_s), periodic_id="recover")
    @app.task(name=RECOVER_TASK, queue=QUEUE, queueing_lock=RECOVER_TASK)
    async def recover_stalled(timestamp: int) -> int:
        """Jobs of workers silent for ``stalled_after_s`` go back to the queue (their lock with them)."""
        stalled = await app.job_manager.get_stalled_jobs(
            task_name=RECONCILE_TASK, seconds_since_heartbeat=s.stalled_after_s
        )
        count = 0
        for job in stalled:
            log.warning("job %s (%s) was on a stalled worker: retrying it", job.id, job.task_kwargs)
            await app.job_manager.retry_job(job)
            count += 1
        await app.job_manager.prune_stalled_workers(s.stalled_after_s)
        return count

    @app.periodic(cron="17 * * * *", periodic_id="cleanup")
    @app.task(name=CLEANUP_TASK, queue=QUEUE, queueing_lock=CLEANUP_TASK, pass_context=True)
    async def remove_old_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
        """Finished jobs older than ``keep_jobs_h`` leave the queue (the audit trail keeps the runs)."""
        from procrastinate import builtin_tasks

        await builtin_tasks.remove_old_jobs(
            context, max_hours=s.keep_jobs_h, remove_failed=True, remove_cancelled=True, remove_aborted=True
        )

    _ = (reconcile_job, sweep, recover_stalled, remove_old_jobs, AlreadyEnqueued)
    return app


async def defer_reconcile(
    app: procrastinate.App, workspace: str, options: ReconcileOptions, *, due: float, delay: float = 0.0
) -> int:
    """Queue one reconcile of ``workspace``: 1, or 0 when one is already waiting (the burst collapses)."""
    from procrastinate.exceptions import AlreadyEnqueued

    task = app.tasks[RECONCILE_TASK]
    configured = task.configure(
        lock=f"ws:{workspace}",
        queueing_lock=f"ws:{workspace}",
        schedule_in={"seconds": round(delay)} if delay >= 1 else None,
    )
    try:
        await configured.defer_async(workspace=workspace, options=options.to_json().decode(), due=due)
    except AlreadyEnqueued:
        return 0
    return 1


def _every(seconds: float) -> str:
    """A cron (seconds last) firing about every ``seconds``: half of it, 1 s .. 59 s."""
    step = min(59, max(1, int(seconds / 2)))
    return f"* * * * * */{step}"
