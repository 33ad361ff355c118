"""The fleet on real work: N one-bucket sandbox workspaces (real Terraform, the sandbox provider on one
moto server), one sweep, 1 then 2 `driftctl worker` processes on a real PostgreSQL (I/O: all of it).

Measures per worker count: wall time from the sweep's due time to the last reconcile finished,
throughput (workspaces/min), p50/p95 due → finished, per-job seconds (started → finished), and the peak
RSS of each worker process (its own; Terraform's children are not counted). Then one event → verified
heal: an out-of-band retag + its CloudTrail-shaped event on SQS, timed until the bucket's tags are
back. Prints Markdown tables; asserts nothing about timing.

    .venv/bin/python bench/fleet_bench.py [--count 100] [--debounce 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from driftctl.sandbox.layout import SandboxLayout  # noqa: E402
from driftctl.sandbox.sandbox import Sandbox  # noqa: E402
from tests.e2e.fleet_estate import (  # noqa: E402
    TAGS,
    Estate,
    build_estate,
    job_runs,
    start_worker,
    stop_all,
    wait_until,
)
from tests.pgcluster import running_cluster  # noqa: E402

NEVER = "0 0 1 1 *"


def fleet_settings(**extra: object) -> dict[str, object]:
    return {
        "sweep": NEVER,
        "mode": "detect",
        "drafter": "rules",
        "strategy": "revert",
        "checkov": False,
        "heartbeat_s": 2.0,
        **extra,
    }


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def sweep_once(config: Path, database_url: str, names: tuple[str, ...]) -> float:
    """Defer one reconcile per workspace, as the periodic sweep does; the due time."""
    from driftctl.config import load_config
    from driftctl.fleet.jobs import Fleet, build_app, defer_reconcile

    cfg = load_config(config)
    assert cfg.fleet is not None
    fleet = Fleet(config_path=config, database_url=database_url, settings=cfg.fleet)
    due = time.time()

    async def go() -> None:
        app = build_app(fleet)
        async with app.open_async():
            for name in names:
                await defer_reconcile(app, name, fleet.default_options("schedule"), due=due)

    asyncio.run(go())
    return due


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_sweep(estate: Estate, cluster_db: str, workers: int, tmp: Path) -> dict[str, float]:
    config = estate.write_config(fleet_settings(), mode="detect")
    procs = [start_worker(config, cluster_db, f"bench{workers}-{i}", tmp) for i in range(workers)]
    peaks = {w.proc.pid: rss_kb(w.proc.pid) for w in procs}
    idle = max(peaks.values())
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            for w in procs:
                peaks[w.proc.pid] = max(peaks[w.proc.pid], rss_kb(w.proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    due = sweep_once(config, cluster_db, estate.names)
    try:
        wait_until(
            lambda: sum(r.status == "succeeded" for r in job_runs(cluster_db)) >= len(estate.names),
            "the sweep",
            limit=3600,
            every=1.0,
        )
    finally:
        stop.set()
        list(stop_all(procs))
    runs = [r for r in job_runs(cluster_db) if r.status == "succeeded"]
    lat = [r.finished - due for r in runs if r.finished]
    per_job = [r.finished - r.started for r in runs if r.finished]
    wall = max(lat)
    return {
        "workers": workers,
        "wall_s": wall,
        "per_min": len(runs) / wall * 60,
        "p50_s": pct(lat, 0.5),
        "p95_s": pct(lat, 0.95),
        "job_s": statistics.median(per_job),
        "rss_idle_mb": idle / 1024,
        "rss_peak_mb": max(peaks.values()) / 1024,
    }


def event_heal(estate: Estate, database_url: str, tmp: Path, debounce: float) -> float:
    sqs = estate.sandbox.clients()("sqs")
    queue_url = sqs.create_queue(QueueName="driftctl-bench-events")["QueueUrl"]
    events = {
        "queue_url": queue_url,
        "endpoint_url": estate.env["AWS_ENDPOINT_URL"],
        "region": "us-east-1",
        "debounce_s": debounce,
        "poll_wait_s": 1,
    }
    config = estate.write_config(fleet_settings(mode="auto", events=events), mode="auto")
    procs = [start_worker(config, database_url, "bench-events", tmp, "--events", env=estate.env)]
    try:
        name = estate.names[0]
        log = procs[0].log  # the consumer builds its index once at start, then every index_refresh_s
        wait_until(lambda: b"events: indexed" in log.read_bytes(), "the event index", limit=600)
        indexed = next(ln for ln in log.read_text().splitlines() if "events: indexed" in ln)
        print(indexed.split("INFO driftctl.fleet.events: ")[-1], flush=True)
        estate.drift(name)
        t0 = time.monotonic()
        estate.send_event(queue_url, "PutBucketTagging", estate.bucket(name), "arn:aws:iam::1:user/alice")
        wait_until(lambda: estate.tags(name) == TAGS, "the heal", limit=600, every=0.2)
        return time.monotonic() - t0
    finally:
        list(stop_all(procs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--debounce", type=float, default=2.0)
    parser.add_argument("--events-only", action="store_true", help="skip the sweeps")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="driftctl-fleet-bench-") as tmpdir, running_cluster() as cluster:
        tmp = Path(tmpdir)
        sb = Sandbox(SandboxLayout(tmp / "sandbox"))
        sb.up(apply=False, reattach=True)
        try:
            t = time.perf_counter()
            estate = build_estate(sb, tmp / "estate", args.count)
            print(f"built {args.count} workspaces in {time.perf_counter() - t:.0f} s", flush=True)
            rows = (
                []
                if args.events_only
                else [run_sweep(estate, cluster.create_database(f"bench_{w}"), w, tmp) for w in (1, 2)]
            )
            heal = event_heal(estate, cluster.create_database("bench_events"), tmp, args.debounce)
        finally:
            sb.down()
    if rows:
        print_rows(args.count, rows)
    print(f"event → verified heal (debounce {args.debounce:.0f} s): {heal:.1f} s")


def print_rows(count: int, rows: list[dict[str, float]]) -> None:
    print(f"\n### fleet sweep, {count} one-bucket sandbox workspaces (mode detect)\n")
    print("| workers | sweep wall (s) | workspaces/min | p50 due→finished (s) | p95 due→finished (s) "
          "| median job (s) | RSS idle (MB) | RSS peak (MB) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workers']:.0f} | {r['wall_s']:.1f} | {r['per_min']:.1f} | {r['p50_s']:.1f} | "
            f"{r['p95_s']:.1f} | {r['job_s']:.2f} | {r['rss_idle_mb']:.0f} | {r['rss_peak_mb']:.0f} |"
        )
    print(f"\nspeed-up 2 vs 1 workers: {rows[0]['wall_s'] / rows[1]['wall_s']:.2f}x")


if __name__ == "__main__":
    main()
