"""The fleet end to end: real `driftctl worker` processes on a real PostgreSQL, many one-bucket sandbox
workspaces on one moto server, real Terraform (I/O: all of it).

What procrastinate promises is checked from its own tables (jobs and their started/finished events),
what driftctl promises from the cloud (moto) and the audit trail.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.sandbox import Sandbox
from tests.e2e.fleet_estate import (
    TAGS,
    Estate,
    WorkerProc,
    build_estate,
    job_runs,
    start_worker,
    stop_all,
    wait_until,
)
from tests.pgcluster import Cluster, restart

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

COUNT = 20  # workspaces, all on one moto server
PERIOD_S = 20
NEVER = "0 0 1 1 *"  # a sweep that does not come round during a test


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    sb = Sandbox(SandboxLayout(tmp_path_factory.mktemp("fleet-sandbox")))
    sb.up(apply=False, reattach=True)
    try:
        yield build_estate(sb, tmp_path_factory.mktemp("fleet"), COUNT)
    finally:
        sb.down()


def _fleet(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "sweep": NEVER,
        "drafter": "rules",
        "strategy": "revert",
        "checkov": False,
        "lock_ttl_s": 6.0,
        "stalled_after_s": 4.0,
        "heartbeat_s": 1.0,
        "retry_attempts": 20,
        "retry_wait_s": 2.0,
    }
    return {**base, **overrides}


def _defer(config: Path, database_url: str, workspace: str, trigger: str = "test") -> int:
    from driftctl.config import load_config
    from driftctl.fleet.jobs import Fleet, build_app, defer_reconcile

    cfg = load_config(config)
    assert cfg.fleet is not None
    fleet = Fleet(config_path=config, database_url=database_url, settings=cfg.fleet)

    async def go() -> int:
        app = build_app(fleet)
        async with app.open_async():
            return await defer_reconcile(app, workspace, fleet.default_options(trigger), due=time.time())

    return asyncio.run(go())


def _logs(workers: list[WorkerProc]) -> str:
    return "\n".join(stop_all(workers))


def test_two_workers_reconcile_every_workspace_once_per_period(
    estate: Estate, postgres_url: str, tmp_path: Path
) -> None:
    config = estate.write_config(_fleet(sweep=f"* * * * * */{PERIOD_S}"), mode="detect")
    workers = [start_worker(config, postgres_url, f"w{i}", tmp_path) for i in (1, 2)]
    try:
        # three sweeps fully done (every workspace finished for three distinct due times)
        def sweeps_done() -> bool:
            done = collections.Counter(r.due for r in job_runs(postgres_url) if r.status == "succeeded")
            return sum(1 for n in done.values() if n >= COUNT) >= 3

        wait_until(sweeps_done, "three complete sweeps", limit=300)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_logs(workers)}") from None
    finally:
        logs = _logs(workers)
    runs = job_runs(postgres_url)
    assert not [r for r in runs if r.status == "failed"], logs
    by_due: dict[float, list[str]] = collections.defaultdict(list)
    for r in runs:
        if r.status == "succeeded":
            by_due[r.due].append(r.workspace)
    complete = [due for due, names in by_due.items() if len(names) >= COUNT]
    assert len(complete) >= 3, logs
    # Every job of a completed sweep succeeded; only a sweep still running when the workers were
    # stopped may have jobs left waiting (deferred for a retry that a stopped worker never takes).
    last = max(complete)
    assert all(r.status == "succeeded" for r in runs if r.due <= last), logs
    for due in complete:  # exactly once per period: every workspace, none twice
        assert sorted(by_due[due]) == sorted(estate.names), (due, by_due[due])
    dues = sorted(by_due)
    assert all(b - a >= PERIOD_S - 1 for a, b in itertools.pairwise(dues)), dues
    for name in estate.names:  # none twice at once
        spans = sorted((r.started, r.finished or r.started) for r in runs if r.workspace == name)
        assert all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(spans)), (name, spans)
    assert {r.trigger for r in runs} == {"schedule"}
    for w in workers:  # both did work
        assert "reconciled ws" in w.log.read_text(), logs


def _audit_kinds(database_url: str, workspace: str) -> list[tuple[str, str]]:
    from driftctl.audit.store import Store

    with Store(database_url) as store:
        return [(e.kind, e.status) for e in store.entries(workspace=workspace, limit=1000)]


def test_a_worker_killed_mid_apply_is_recovered_and_postgres_restarts_are_survived(
    estate: Estate, postgres_url: str, pg_cluster: Cluster, tmp_path: Path
) -> None:
    name = estate.names[1]
    config = estate.write_config(_fleet(), mode="auto", terraform={name: estate.slow_apply(20)})
    estate.drift(name)
    first = start_worker(config, postgres_url, "doomed", tmp_path)
    workers = [first]
    try:
        assert _defer(config, postgres_url, name) == 1
        wait_until(lambda: ("action", "started") in _audit_kinds(postgres_url, name), "the apply to start")
        first.kill(signal.SIGKILL)  # mid-apply: the action row says started, nothing closed it
        assert ("action", "finished") not in _audit_kinds(postgres_url, name)
        estate.write_config(_fleet(), mode="auto")  # applies at full speed from here on
        rescuer = start_worker(config, postgres_url, "rescuer", tmp_path)
        workers.append(rescuer)

        def healed() -> bool:
            return any(r.workspace == name and r.status == "succeeded" for r in job_runs(postgres_url))

        wait_until(healed, "the stalled job to be picked up and finished", limit=240)
        kinds = _audit_kinds(postgres_url, name)
        assert ("action", "interrupted") in kinds, kinds
        assert estate.tags(name) == TAGS
        plan = estate.terraform(name).plan(out=tmp_path / "check.tfplan")
        assert not plan.changes  # consistent: state and reality agree with the code

        # Postgres goes away and comes back: the surviving worker reconnects and heals the next drift
        restart(pg_cluster)
        estate.drift(name)
        wait_until(lambda: _try_defer(config, postgres_url, name), "the database to take jobs again", 60)
        wait_until(
            lambda: sum(r.workspace == name and r.status == "succeeded" for r in job_runs(postgres_url)) >= 2,
            "a job after the restart",
            limit=180,
        )
        assert estate.tags(name) == TAGS
        assert rescuer.proc.poll() is None
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_logs(workers)}") from None
    finally:
        logs = _logs(workers)
    assert "reconciled " + name in rescuer.log.read_text(), logs


def _try_defer(config: Path, database_url: str, name: str) -> bool:
    try:
        return _defer(config, database_url, name) == 1
    except Exception:
        return False


ALICE = "arn:aws:iam::123456789012:user/alice"
DRIFTCTL = "arn:aws:sts::123456789012:assumed-role/driftctl/fleet"


def test_a_cloudtrail_event_reconciles_that_workspace_alone_once_and_heals_it(
    estate: Estate, postgres_url: str, tmp_path: Path
) -> None:
    target, own, untouched = estate.names[3], estate.names[5], estate.names[6]
    sqs = estate.sandbox.clients()("sqs")
    queue_url = sqs.create_queue(QueueName=f"driftctl-events-{tmp_path.name}")["QueueUrl"]
    events = {
        "queue_url": queue_url,
        "endpoint_url": estate.env["AWS_ENDPOINT_URL"],
        "region": "us-east-1",
        "own_principals": [DRIFTCTL],
        "debounce_s": 1.0,
        "poll_wait_s": 1,
    }
    config = estate.write_config(_fleet(events=events), mode="auto")
    workers = [
        start_worker(config, postgres_url, "events", tmp_path, "--events", env=estate.env),
        start_worker(config, postgres_url, "plain", tmp_path, env=estate.env),
    ]
    try:
        estate.drift(own)  # drifted, but the only event about it is driftctl's own call
        estate.send_event(queue_url, "PutBucketTagging", estate.bucket(own), DRIFTCTL)
        estate.send_event(queue_url, "PutBucketTagging", "not-managed-by-anyone", ALICE)
        estate.send_event(queue_url, "GetBucketTagging", estate.bucket(untouched), ALICE)  # read-only
        estate.drift(target)
        for _ in range(3):  # a burst about one bucket: debounced into one reconcile
            estate.send_event(queue_url, "PutBucketTagging", estate.bucket(target), ALICE)

        def done() -> bool:
            return any(r.workspace == target and r.status == "succeeded" for r in job_runs(postgres_url))

        wait_until(done, "the event's reconcile", limit=180)
        runs = job_runs(postgres_url)
        assert [(r.workspace, r.trigger, r.status) for r in runs] == [(target, "event", "succeeded")]
        assert estate.tags(target) == TAGS
        assert estate.tags(own) != TAGS  # left for the sweep: no event of someone else's named it
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_logs(workers)}") from None
    finally:
        _logs(workers)
        estate.s3().put_bucket_tagging(
            Bucket=estate.bucket(own), Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in TAGS.items()]}
        )


def test_an_approved_revert_applied_on_another_host_replans_and_applies_only_the_approved_change(
    estate: Estate, postgres_url: str, tmp_path: Path
) -> None:
    # Host A proposes (its saved plan stays on its disk); host B, sharing only the Postgres store,
    # applies: no plan file there, so it re-plans, and applies only if the new plan changes what the
    # human approved.
    from driftctl.core import (
        ReconcileOptions,
        apply_proposal,
        approve_proposal,
        build_runtime,
        list_proposals,
        reconcile_workspace,
        resolve_workspaces,
    )

    name, other = estate.names[7], estate.names[4]
    config = estate.write_config(_fleet(), mode="propose")
    options = ReconcileOptions(mode="propose", strategy="revert", drafter="rules", checkov=False)
    host_a = build_runtime(config, database_url=postgres_url)
    host_b = build_runtime(config, database_url=postgres_url)
    try:
        ids = {}
        for ws in (name, other):
            estate.drift(ws)
            (target,) = resolve_workspaces((ws,), host_a)
            reconcile_workspace(target, host_a, options)
            (row,) = list_proposals(host_a, workspace=ws, open_only=True)
            approve_proposal(host_a, row.id, "alice")
            assert row.plan_path and Path(row.plan_path).is_file()
            Path(row.plan_path).unlink()  # host B never had it
            ids[ws] = row.id

        applied = apply_proposal(host_b, ids[name], options, by="bob")
        assert (applied.status, applied.replanned) == ("applied", True), applied
        assert estate.tags(name) == TAGS

        # Reality moved after approval: the bucket was deleted, so the revert now creates it instead
        # of updating its tags. That is not what was approved: the re-plan is not applied.
        estate.s3().delete_bucket(Bucket=estate.bucket(other))
        refused = apply_proposal(host_b, ids[other], options, by="bob")
        assert refused.status == "stale", refused
        assert "the approved one changed update" in refused.message, refused.message
        assert "create" in refused.message.split(";")[0], refused.message
        assert estate.bucket(other) not in {b["Name"] for b in estate.s3().list_buckets()["Buckets"]}
    finally:
        host_a.store.close()
        host_b.store.close()
