"""`driftctl serve`: idle RSS and CPU, and seconds from an out-of-band change to the confirmed heal.

Idle: a serve whose workspace is scheduled once a year (after its start-up run), sampled from /proc.
Heal: a serve with a ``@every 10s`` schedule (checkov on, as shipped); each trial drifts the security
group with boto3 and times until the audit trail holds the ``confirmed`` action, then until the
signed webhook for it arrives. Prints Markdown tables; asserts nothing.

    .venv/bin/python bench/serve_bench.py [--trials 3] [--idle-seconds 60] [--sandbox-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from driftctl.audit.store import Store  # noqa: E402
from driftctl.sandbox.layout import SandboxLayout  # noqa: E402
from driftctl.sandbox.sandbox import Sandbox  # noqa: E402
from tests.unit.service.receiver import receiver  # noqa: E402

SG = "module.app.module.network.aws_security_group.web"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    sb: Sandbox, tmp: Path, name: str, schedule: str, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str, Path]:
    config = yaml.safe_load(sb.layout.config_file.read_text())
    config["defaults"] = {"mode": "auto", "schedule": schedule}
    config["service"] = {
        "notify": [
            {
                "name": "hook",
                "kind": "webhook",
                "url_env": "HOOK_URL",
                "secret_env": "HOOK_KEY",
                "events": ["healed"],
            }
        ]
    }
    path = sb.layout.root / f"bench-{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    db = tmp / f"{name}.db"
    port = free_port()
    argv = [sys.executable, "-m", "driftctl.cli", "serve", "-c", str(path), "--listen", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        argv,
        env={**os.environ, "DRIFTCTL_DATABASE_URL": f"sqlite:///{db}", **env},
        stdout=subprocess.DEVNULL,
        stderr=(tmp / f"{name}.log").open("w"),
    )
    return proc, f"http://127.0.0.1:{port}", db


def until(check: object, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    raise TimeoutError


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def confirmed(db: Path) -> int:
    with Store(f"sqlite:///{db}") as store:
        return sum(
            1 for e in store.entries() if e.kind == "action" and e.status == "confirmed" and e.subject == SG
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--sandbox-dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="driftctl-serve-bench-") as tmp_s, receiver([200]) as hook:
        tmp = Path(tmp_s)
        sb = Sandbox(SandboxLayout(args.sandbox_dir or tmp / "sandbox"))
        sb.up(reattach=True)
        env = {"HOOK_URL": hook.url, "HOOK_KEY": "bench"}
        try:
            proc, url, db = start(sb, tmp, "idle", "0 0 1 1 *", env)
            until(
                lambda: (
                    httpx.get(f"{url}/readyz", timeout=2).json()["running"] == []
                    and Store(f"sqlite:///{db}").entries()
                )
            )
            time.sleep(5)  # let the start-up run's memory settle
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.idle_seconds)
            cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0) * 100
            rss = rss_mib(proc.pid)
            proc.terminate()
            proc.wait(60)
            print("| idle serve | value |\n| --- | --- |")
            print(f"| RSS after one reconcile | {rss:.0f} MiB |")
            print(f"| CPU over {args.idle_seconds:.0f} s idle | {cpu:.2f} % of one core |")

            proc, url, db = start(sb, tmp, "heal", "@every 10s", env)
            until(lambda: httpx.get(f"{url}/readyz", timeout=2).json()["role"] == "active")
            heals, hooks = [], []
            for n in range(args.trials):
                before, seen = confirmed(db), len(hook.received)
                t0 = time.monotonic()
                sb.drift("sg-open-world")
                until(lambda b=before: confirmed(db) > b)  # type: ignore[misc]
                heals.append(time.monotonic() - t0)
                until(lambda s=seen: len(hook.received) > s)  # type: ignore[misc]
                hooks.append(time.monotonic() - t0)
                print(f"  trial {n + 1}: healed {heals[-1]:.1f}s, webhook {hooks[-1]:.1f}s", file=sys.stderr)
            proc.terminate()
            proc.wait(120)
            print("\n| @every 10s, checkov on | median | min | max |\n| --- | --- | --- | --- |")
            for label, xs in (("change → confirmed heal (s)", heals), ("change → signed webhook (s)", hooks)):
                print(f"| {label} | {statistics.median(xs):.1f} | {min(xs):.1f} | {max(xs):.1f} |")
        finally:
            if args.sandbox_dir is None:
                sb.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
