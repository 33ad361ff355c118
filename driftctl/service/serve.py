"""The scheduled reconciler: lease, schedules, triggers, runs, notifications, graceful stop (I/O: all).

One loop on the main thread takes or renews the lease, hands triggers to the scheduler and wakes the
outbox; APScheduler (one worker thread: one Terraform at a time) runs the workspaces; uvicorn serves
HTTP on its own thread. Only the lease holder schedules, runs and delivers; a standby only renews its
claim. SIGHUP reloads driftctl.yaml; SIGTERM/SIGINT stop scheduling, let a running reconcile (and its
`terraform apply`) finish within ``stop_grace``, record anything cut short, and exit 0.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from driftctl import core
from driftctl.config import Config, load_config
from driftctl.errors import ConfigError, DriftctlError
from driftctl.service.events import changes
from driftctl.service.http import Readiness
from driftctl.service.lease import Lease, lease_for
from driftctl.service.logs import run_id_var, workspace_var
from driftctl.service.metrics import Metrics
from driftctl.service.notify import Target, resolve_sinks
from driftctl.service.outbox import Dispatcher, Outbox
from driftctl.service.runs import Runs, open_service_tables
from driftctl.service.schedule import needs_catch_up, trigger_for, window_for
from driftctl.service.settings import ServiceSettings
from driftctl.service.window import hold_reason

Clock = Callable[[], float]
log = logging.getLogger("driftctl.service")
EXIT_CODES = {"clean": 0, "healed": 3, "drift": 2, "skipped": 4, "error": 1}


class Service:
    def __init__(
        self, config_path: Path, runtime: core.Runtime, *, checkov: bool = True, clock: Clock = time.time
    ) -> None:
        self.config_path = config_path
        self.checkov = checkov
        # Called with each reconcile's result (e.g. the forge's FrontDoor.sync_workspace: pull requests
        # and the drift issue); a failure there is logged and never stops the schedule.
        self.after_run: Callable[[core.WorkspaceResult], object] | None = None
        self.runtime = runtime
        self.clock = clock
        self.config = load_config(config_path)
        self.settings = self.config.service or ServiceSettings()
        self.targets: list[Target] = resolve_sinks(self.settings.notify)
        self._check_windows(self.config, self.settings)
        open_service_tables(runtime.store)
        self.lease: Lease = lease_for(runtime.store, self.settings.lease_ttl, clock=clock)
        self.runs = Runs(runtime.store, self.lease.holder, clock=clock)
        self.metrics = Metrics()
        self.outbox = Outbox(runtime.store, self.settings.delivery, clock=clock)
        self.dispatcher = Dispatcher(self.outbox, self.targets, on_result=self._delivered)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": self.settings.misfire_grace,
            },
            timezone=self.settings.timezone,
        )
        self.active = False
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()
        self.last_tick = 0.0
        self._last_lease_try = 0.0
        self._running: dict[str, str] = {}  # workspace → run id in flight
        self._idle = threading.Condition()

    # -- the loop ----------------------------------------------------------------------------------

    def run_forever(self) -> list[str]:
        """Until SIGTERM/SIGINT set ``stopping``; the workspaces whose runs were cut short."""
        self.scheduler.start(paused=False)
        log.info("started as %s; waiting for the scheduler lease", self.lease.holder, extra={"step": "lease"})
        while not self.stopping.is_set():
            self.tick()
            self.stopping.wait(self.settings.poll)
        return self.stop()

    def tick(self) -> None:
        """One turn: reload if asked, keep the lease, take triggers, wake the outbox."""
        now = self.clock()
        if self.reload_requested.is_set():
            self.reload_requested.clear()
            self.reload()
        if not self.active or now - self._last_lease_try >= self.settings.lease_ttl / 3:
            self._last_lease_try = now
            self._keep_lease()
        if self.active:
            self._take_triggers()
            self.dispatcher.tick()
        self.last_tick = self.clock()

    def _keep_lease(self) -> None:
        try:
            held = self.lease.acquire()
        except DriftctlError as exc:
            log.warning("cannot reach the store to renew the lease: %s", exc.message, extra={"step": "lease"})
            held = False
        if held and not self.active:
            self.active = True
            self.metrics.active.set(1)
            log.info("took the scheduler lease: this process schedules now", extra={"step": "lease"})
            self._schedule_all(catch_up=True)
        elif not held and self.active:
            self.active = False
            self.metrics.active.set(0)
            log.warning("lost the scheduler lease: standing by", extra={"step": "lease"})
            self._unschedule()  # taken triggers still reach run_workspace, which records them skipped

    # -- schedules ---------------------------------------------------------------------------------

    def _unschedule(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith(("ws:", "catchup:")):
                job.remove()

    def _schedule_all(self, *, catch_up: bool) -> None:
        self._unschedule()
        now = datetime.fromtimestamp(self.clock(), UTC)
        for ws in self.config.workspaces:
            trigger = trigger_for(ws.schedule, self.settings.timezone, self.settings.jitter)
            self.scheduler.add_job(
                self.run_workspace, trigger, args=(ws.name, "schedule"), id=f"ws:{ws.name}", name=ws.name
            )
            if catch_up:
                plain = trigger_for(ws.schedule, self.settings.timezone)
                if needs_catch_up(self.runs.last(ws.name), window_for(plain, now)):
                    log.info(
                        "catching up a missed or interrupted window",
                        extra={"workspace": ws.name, "step": "schedule"},
                    )
                    self.scheduler.add_job(  # however late the worker gets to it: never dropped
                        self.run_workspace,
                        args=(ws.name, "catchup"),
                        id=f"catchup:{ws.name}",
                        misfire_grace_time=None,
                    )
        names = ", ".join(f"{w.name} ({w.schedule})" for w in self.config.workspaces)
        log.info("scheduled %s", names, extra={"step": "schedule"})

    def reload(self) -> None:
        """SIGHUP: re-read driftctl.yaml; a bad file keeps the running schedules and says why."""
        try:
            config = load_config(self.config_path)
            settings = config.service or ServiceSettings()
            self._check_windows(config, settings)
            targets = resolve_sinks(settings.notify)
        except DriftctlError as exc:
            log.error("reload failed, keeping the current config: %s", exc.message, extra={"step": "reload"})
            return
        self.config, self.settings = config, settings
        self.dispatcher.close()
        self.targets = targets
        self.dispatcher = Dispatcher(self.outbox, targets, on_result=self._delivered)
        log.info("reloaded %s", self.config_path, extra={"step": "reload"})
        if self.active:
            self._schedule_all(catch_up=False)

    @staticmethod
    def _check_windows(config: Config, settings: ServiceSettings) -> None:
        unknown = sorted(set(settings.maintenance) - {"*", *config.names})
        if unknown:
            raise ConfigError(
                f"{config.path}: service.maintenance names unknown workspace(s) {', '.join(unknown)}; "
                f"known: {', '.join(config.names)}"
            )

    def _take_triggers(self) -> None:
        by_ws: dict[str, list[int]] = {}
        for row in self.runs.take():
            assert row.id is not None
            by_ws.setdefault(row.workspace, []).append(row.id)
        for ws, ids in by_ws.items():
            if ws not in self.config.names:
                self.runs.trigger_done(ids, "", "error: unknown workspace")
                continue
            log.info(
                "triggered (request %s)", ", ".join(map(str, ids)), extra={"workspace": ws, "step": "trigger"}
            )
            self.scheduler.add_job(
                self.run_workspace,
                args=(ws, "manual", ids),
                id=f"trigger:{ws}:{ids[0]}",
                misfire_grace_time=None,
            )

    # -- one workspace -----------------------------------------------------------------------------

    def run_workspace(self, name: str, trigger: str, trigger_ids: Sequence[int] = ()) -> str | None:
        """Reconcile ``name`` once (the scheduler calls this on its worker thread); its status."""
        if self.stopping.is_set() or not self.active:
            if trigger_ids:  # `driftctl trigger --wait` hears why, and can ask again
                why = "is stopping" if self.stopping.is_set() else "does not hold the scheduler lease"
                self.runs.trigger_done(list(trigger_ids), "", f"skipped: this serve {why}")
            return None
        run_id = secrets.token_hex(6)
        now = self.clock()
        ws = next((w for w in self.config.workspaces if w.name == name), None)
        if ws is None:
            return None
        if trigger in ("schedule", "catchup"):
            window = window_for(
                trigger_for(ws.schedule, self.settings.timezone), datetime.fromtimestamp(now, UTC)
            )
            if window is None or not self.runs.claim(name, window, run_id, again=trigger == "catchup"):
                log.info("this window already ran: skipped", extra={"workspace": name, "step": "schedule"})
                return None
        with self._idle:
            self._running[name] = run_id
        tokens = run_id_var.set(run_id), workspace_var.set(name)
        try:
            return self._reconcile(name, trigger, run_id, now, trigger_ids)
        finally:
            run_id_var.reset(tokens[0])
            workspace_var.reset(tokens[1])
            with self._idle:
                self._running.pop(name, None)
                self._idle.notify_all()

    def _reconcile(self, name: str, trigger: str, run_id: str, now: float, trigger_ids: Sequence[int]) -> str:
        hold = hold_reason(
            self.settings.windows_for(name), datetime.fromtimestamp(now, UTC), self.settings.timezone
        )
        options = core.ReconcileOptions(
            trigger=trigger, requested_by="driftctl serve", hold=hold, checkov=self.checkov
        )
        rt = dataclasses.replace(self.runtime, run_id=run_id)
        store = rt.store
        breaker_before = store.breaker(name).open
        log.info("reconcile started (%s)%s", trigger, f"; {hold}" if hold else "", extra={"step": "run"})
        try:
            targets = core.resolve_workspaces([name], rt)
            result = core.reconcile(targets, rt, options).workspaces[0]
        except DriftctlError as exc:
            result = core.WorkspaceResult(name, "?", core.Status.ERROR, error=exc.message)
        except Exception as exc:  # a bug must not stop the schedule; it is logged with its type
            log.exception("reconcile crashed", extra={"step": "run"})
            result = core.WorkspaceResult(name, "?", core.Status.ERROR, error=type(exc).__name__)
        finished = self.clock()
        status = result.status.value
        self.runs.finish(name, run_id, status)
        if trigger_ids:
            self.runs.trigger_done(list(trigger_ids), run_id, status)
        self._after(result, run_id, trigger, finished, breaker_before)
        outcomes = ", ".join(f"{i.address}: {i.outcome.value}" for i in result.items) or "no drift"
        log.info("reconcile %s in %.1fs: %s", status, result.duration_s, outcomes, extra={"step": "run"})
        return status

    def _after(
        self, result: core.WorkspaceResult, run_id: str, trigger: str, at: float, breaker_before: bool
    ) -> None:
        """Metrics, state changes → outbox. A failure here is logged; the run itself is already recorded."""
        name = result.workspace
        if self.after_run is not None:
            try:
                self.after_run(result)
            except Exception:
                log.exception("after-run hook failed (e.g. the forge)", extra={"step": "forge"})
        try:
            self.metrics.record(result, trigger, finished_at=at)
            breaker = self.runtime.store.breaker(name)
            self.metrics.breaker.labels(name).set(1 if breaker.open else 0)
            self.metrics.pending.set(len(core.list_proposals(self.runtime, status="pending")))
            before = self.runs.states(name)
            found = changes(
                result,
                before,
                run_id=run_id,
                now=at,
                breaker_opened=breaker.open and not breaker_before,
                flapping_heals=self.settings.flapping_heals,
            )
            for event in found.events:
                if event.kind == "healed" and event.time_to_heal_s is not None:
                    self.metrics.time_to_heal.observe(event.time_to_heal_s)
            self.runs.save_states(name, found.states)
            if self.outbox.enqueue(found.events, self.targets):
                self.dispatcher.tick()  # deliver now, on the dispatcher's threads
        except DriftctlError as exc:
            log.error("after the run: %s", exc.message, extra={"step": "notify"})

    def _delivered(self, sink: str, event: str, ok: bool) -> None:
        self.metrics.notifications.labels(event, "delivered" if ok else "failed").inc()
        if ok:
            log.info("notified %s of %s", sink, event, extra={"step": "notify"})

    # -- health and stop ---------------------------------------------------------------------------

    def readiness(self) -> Readiness:
        age = self.clock() - self.last_tick
        store_ok = True
        try:
            self.runs.last("")
        except DriftctlError:
            store_ok = False
        ticking = age <= max(3 * self.settings.poll, 10.0)
        detail: dict[str, Any] = {
            "role": "active" if self.active else "standby",
            "store": "ok" if store_ok else "unreachable",
            "last_tick_seconds_ago": round(age, 3),
            "running": sorted(self._running),
        }
        return Readiness(store_ok and ticking and not self.stopping.is_set(), detail)

    def stop(self) -> list[str]:
        """Stop scheduling, wait up to ``stop_grace`` for the running reconcile; what was cut short."""
        log.info(
            "stopping: no new runs; waiting up to %ss for the running one",
            self.settings.stop_grace,
            extra={"step": "stop"},
        )
        self.stopping.set()
        for job in self.scheduler.get_jobs():  # triggers not started yet: say so, they are not lost silently
            if job.id.startswith("trigger:"):
                with contextlib.suppress(DriftctlError):
                    self.runs.trigger_done(list(job.args[2]), "", "skipped: this serve is stopping")
        self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.settings.stop_grace
        with self._idle:
            while self._running and time.monotonic() < deadline:
                self._idle.wait(timeout=min(1.0, max(deadline - time.monotonic(), 0.01)))
            cut = dict(self._running)
        for name, run_id in cut.items():
            message = (
                f"service stopped after a {self.settings.stop_grace:.0f}s grace with this run unfinished"
            )
            log.warning("cut short: %s", message, extra={"workspace": name, "run_id": run_id, "step": "stop"})
            try:
                self.runs.finish(name, run_id, "cut_short")
                dataclasses.replace(self.runtime, run_id=run_id).audit(
                    "alert", "cut_short", {"message": message}, workspace=name
                )
            except DriftctlError as exc:
                log.error("could not record the cut-short run: %s", exc.message, extra={"step": "stop"})
        if self.active:
            with contextlib.suppress(DriftctlError):  # else it expires on its own
                self.lease.release()
        self.dispatcher.close()
        log.info("stopped", extra={"step": "stop"})
        return list(cut)
