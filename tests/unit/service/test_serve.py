"""The service loop without Terraform: lease roles, schedules, triggers and readiness, on a real SQLite
store with an injected clock (the scheduler is never started, so no job runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftctl import core
from driftctl.errors import ConfigError
from driftctl.service.runs import Runs
from driftctl.service.serve import Service


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def write_config(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "ws").mkdir(exist_ok=True)
    path = tmp_path / "driftctl.yaml"
    path.write_text(
        "version: 1\n"
        "workspaces:\n"
        '- {name: a, path: ws, schedule: "@every 10m"}\n'
        '- {name: b, path: ws, schedule: "0 3 * * *"}\n'
        f"service: {{lease_ttl: 15, poll: 1{extra}}}\n"
    )
    return path


def service(config: Path, clock: Clock) -> Service:
    runtime = core.build_runtime(config, database_url=f"sqlite:///{config.parent / 'driftctl.db'}")
    return Service(config, runtime, checkov=False, clock=clock)


def job_ids(s: Service) -> set[str]:
    return {job.id for job in s.scheduler.get_jobs()}


def test_one_active_and_one_standby_then_a_takeover_when_the_active_one_goes_quiet(tmp_path: Path) -> None:
    clock = Clock()
    config = write_config(tmp_path)
    first, second = service(config, clock), service(config, clock)
    first.tick()
    second.tick()
    assert first.active and not second.active
    assert job_ids(first) == {"ws:a", "ws:b", "catchup:a", "catchup:b"}  # never ran: catch up once
    assert job_ids(second) == set()
    assert second.readiness().detail["role"] == "standby"

    clock.now += 15 + 0.1  # the first stopped renewing (say, SIGKILL)
    second.tick()
    assert second.active
    clock.now += 5  # the first wakes up: its renewal fails, it stands by and drops its schedules
    first.tick()
    assert not first.active and job_ids(first) == set()


def test_a_window_that_already_ran_is_not_caught_up_again(tmp_path: Path) -> None:
    clock = Clock()
    config = write_config(tmp_path)
    s = service(config, clock)
    runs = Runs(s.runtime.store, "earlier")
    runs.claim("a", (clock.now // 600) * 600, "r1")
    runs.finish("a", "r1", "clean")
    s.tick()
    assert "catchup:a" not in job_ids(s) and "catchup:b" in job_ids(s)


def test_triggers_are_taken_only_by_the_active_service_and_unknown_names_are_answered(tmp_path: Path) -> None:
    clock = Clock()
    config = write_config(tmp_path)
    active, standby = service(config, clock), service(config, clock)
    runs = Runs(active.runtime.store, "cli")
    active.tick()
    ok, unknown = runs.request("a", "me"), runs.request("zzz", "me")
    standby.tick()
    row = runs.trigger(ok)
    assert row is not None and row.taken_at is None  # the standby leaves it alone
    active.tick()
    assert f"trigger:a:{ok}" in job_ids(active)
    gone = runs.trigger(unknown)
    assert gone is not None and gone.status == "error: unknown workspace"


def test_a_trigger_reaching_a_demoted_service_is_answered_not_lost(tmp_path: Path) -> None:
    clock = Clock()
    s = service(write_config(tmp_path), clock)
    runs = Runs(s.runtime.store, "cli")
    trigger_id = runs.request("a", "me")
    assert s.run_workspace("a", "manual", [trigger_id]) is None  # not active yet
    row = runs.trigger(trigger_id)
    assert row is not None and row.status == "skipped: this serve does not hold the scheduler lease"


def test_readiness_needs_a_recent_tick(tmp_path: Path) -> None:
    clock = Clock()
    s = service(write_config(tmp_path), clock)
    assert not s.readiness().ready  # never ticked
    s.tick()
    assert s.readiness().ready
    clock.now += 11
    assert not s.readiness().ready


def test_maintenance_windows_must_name_known_workspaces(tmp_path: Path) -> None:
    config = write_config(tmp_path, ', maintenance: {nope: [{start: "01:00", end: "02:00"}]}')
    with pytest.raises(ConfigError, match=r"unknown workspace.*nope"):
        service(config, Clock())


def test_each_result_reaches_the_after_run_hook_and_a_failing_hook_stops_nothing(tmp_path: Path) -> None:
    """`serve` hands every reconcile's result to the forge (FrontDoor.sync_workspace) through this hook."""
    s = service(write_config(tmp_path), Clock())
    seen: list[core.WorkspaceResult] = []
    result = core.WorkspaceResult("a", "auto", core.Status.CLEAN)
    s.after_run = seen.append
    s._after(result, "run-1", "schedule", 1_800_000_000.0, False)
    assert seen == [result]

    def broken(_result: core.WorkspaceResult) -> None:
        raise RuntimeError("forge unreachable")

    s.after_run = broken
    s._after(result, "run-2", "schedule", 1_800_000_001.0, False)  # logged, not raised
    assert s.metrics.render()  # the run was still recorded
