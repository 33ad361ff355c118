"""Many tiny sandbox workspaces sharing one moto server, and a fleet of real `driftctl worker` processes
(I/O: Terraform, moto, processes, Postgres). Used by tests/e2e/test_fleet.py and bench/fleet_bench.py.

Each workspace is one ``aws_s3_bucket`` (the sandbox provider, a stand-in for hashicorp/aws backed by
moto) in its own directory with its own local state. The first workspace is initialised from the
sandbox's provider mirror; the others get a copy of its ``.terraform`` and lock file (the same
provider, so the lock's hash holds), which saves an ``init`` per workspace.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from driftctl.sandbox.sandbox import Sandbox
from driftctl.terraform import SubprocessRunner, Terraform

TAGS = {"env": "fleet", "owner": "platform"}
STACK = """terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_s3_bucket" "this" {
  bucket = "%(bucket)s"
  tags = {
    env   = "fleet"
    owner = "platform"
  }
}
"""


@dataclass(frozen=True)
class Estate:
    root: Path
    names: tuple[str, ...]
    env: Mapping[str, str]
    sandbox: Sandbox

    def bucket(self, name: str) -> str:
        return f"fleet-{name}"

    def path(self, name: str) -> Path:
        return self.root / name

    def terraform(self, name: str) -> Terraform:
        return Terraform(SubprocessRunner(self.sandbox.binary(), base_env=dict(self.env)), self.path(name))

    def s3(self) -> Any:
        return self.sandbox.clients()("s3")

    def tags(self, name: str) -> dict[str, str]:
        reply = self.s3().get_bucket_tagging(Bucket=self.bucket(name))
        return {t["Key"]: t["Value"] for t in reply["TagSet"]}

    def send_event(self, queue_url: str, name: str, bucket: str, principal: str) -> None:
        """What EventBridge puts on an SQS target for a CloudTrail-recorded S3 call."""
        import json

        detail = {
            "eventVersion": "1.09",
            "userIdentity": {"type": "IAMUser", "arn": principal},
            "eventSource": "s3.amazonaws.com",
            "eventName": name,
            "awsRegion": "us-east-1",
            "requestParameters": {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com", "tagging": ""},
            "responseElements": None,
            "readOnly": False,
            "eventType": "AwsApiCall",
        }
        envelope = {"version": "0", "detail-type": "AWS API Call via CloudTrail", "source": "aws.s3",
                    "detail": detail}  # fmt: skip
        self.sandbox.clients()("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(envelope))

    def drift(self, name: str) -> None:
        """An out-of-band change: someone retags the bucket by hand."""
        tagset = [{"Key": "env", "Value": "hand-edited"}, {"Key": "owner", "Value": "platform"}]
        self.s3().put_bucket_tagging(Bucket=self.bucket(name), Tagging={"TagSet": tagset})

    def slow_apply(self, seconds: float) -> Path:
        """A `terraform` that waits before every apply: a window to kill a worker mid-apply in."""
        import shlex

        script = self.root / "slow-apply-terraform"
        real = " ".join(shlex.quote(c) for c in self.sandbox.binary().command)
        script.write_text(f'#!/bin/sh\nif [ "$1" = apply ]; then sleep {seconds}; fi\nexec {real} "$@"\n')
        script.chmod(0o755)
        return script

    def write_config(
        self, fleet: Mapping[str, Any], *, mode: str = "auto", terraform: Mapping[str, Path] | None = None
    ) -> Path:
        workspaces: list[dict[str, Any]] = []
        for n in self.names:
            ws: dict[str, Any] = {"name": n, "path": n}
            if terraform and n in terraform:
                ws["terraform"] = str(terraform[n])
            workspaces.append(ws)
        config = {
            "version": 1,
            "defaults": {"mode": mode, "ignore_file": None, "env": dict(self.env)},
            "workspaces": workspaces,
            "fleet": dict(fleet),
        }
        path = self.root / "driftctl.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path


def build_estate(sandbox: Sandbox, root: Path, count: int) -> Estate:
    """``count`` applied one-bucket workspaces under ``root`` (the sandbox must be up, with reattach)."""
    root.mkdir(parents=True, exist_ok=True)
    env = sandbox.env()
    names = tuple(f"ws{i:03d}" for i in range(count))
    estate = Estate(root, names, env, sandbox)
    for name in names:
        estate.path(name).mkdir(exist_ok=True)
        (estate.path(name) / "main.tf").write_text(STACK % {"bucket": estate.bucket(name)})
    first = names[0]
    estate.terraform(first).init()
    for name in names[1:]:  # with a reattached provider, init may leave only the modules' metadata
        if (estate.path(first) / ".terraform").is_dir():
            shutil.copytree(
                estate.path(first) / ".terraform", estate.path(name) / ".terraform", symlinks=True
            )
        if (estate.path(first) / ".terraform.lock.hcl").is_file():
            shutil.copy2(
                estate.path(first) / ".terraform.lock.hcl", estate.path(name) / ".terraform.lock.hcl"
            )

    def apply(name: str) -> None:
        tf = estate.terraform(name)
        plan = estate.path(name) / "up.tfplan"
        tf.plan(out=plan)
        tf.apply(plan)
        plan.unlink()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(apply, names))
    return estate


@dataclass
class WorkerProc:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """SIGKILL: the worker and every process it started (Terraform too), as when its machine dies."""
        if self.proc.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.proc.pid, sig)
            else:
                os.kill(self.proc.pid, sig)
        self.proc.wait(timeout=90)


def start_worker(
    config: Path,
    database_url: str,
    name: str,
    log_dir: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
) -> WorkerProc:
    log = log_dir / f"{name}.log"
    env = {**os.environ, **(env or {}), "DRIFTCTL_DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "driftctl.cli", "worker", "-c", str(config), "--name", name, "-v", *extra],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=config.parent,
        start_new_session=True,
    )
    worker = WorkerProc(name, proc, log)
    wait_until(
        lambda: b": ready" in log.read_bytes() or proc.poll() is not None, f"worker {name} to start", 120
    )
    if proc.poll() is not None:
        raise AssertionError(f"worker {name} exited {proc.returncode}:\n{log.read_text(errors='replace')}")
    return worker


@dataclass(frozen=True)
class JobRun:
    job_id: int
    workspace: str
    trigger: str
    due: float
    status: str
    started: float
    finished: float | None
    attempts: int


def job_runs(database_url: str) -> list[JobRun]:
    """Every run of every reconcile job (a retried job runs more than once), from procrastinate's tables."""
    import json

    import psycopg

    runs: list[JobRun] = []
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        exists = conn.execute("SELECT to_regclass('procrastinate_events') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return runs  # no worker has created the queue's tables yet
        jobs = conn.execute(
            "SELECT id, args, attempts FROM procrastinate_jobs WHERE task_name = %s",
            ("driftctl.reconcile",),
        ).fetchall()
        for job_id, args, attempts in jobs:
            events = conn.execute(
                "SELECT type::text, extract(epoch FROM at)::float8 FROM procrastinate_events "
                "WHERE job_id = %s ORDER BY at, id",
                (job_id,),
            ).fetchall()
            options = json.loads(args["options"])
            start: float | None = None
            for kind, at in events:
                if kind == "started":
                    start = at
                elif start is not None and kind in ("succeeded", "failed", "deferred_for_retry", "retried"):
                    runs.append(
                        JobRun(
                            job_id,
                            args["workspace"],
                            options["trigger"],
                            args["due"],
                            kind,
                            start,
                            at,
                            attempts,
                        )
                    )
                    start = None
            if start is not None:
                runs.append(
                    JobRun(
                        job_id,
                        args["workspace"],
                        options["trigger"],
                        args["due"],
                        "doing",
                        start,
                        None,
                        attempts,
                    )
                )
    return runs


def wait_until(predicate: Callable[[], bool], what: str, limit: float = 240.0, every: float = 0.5) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")
        time.sleep(every)


def stop_all(workers: list[WorkerProc]) -> Iterator[str]:
    """SIGTERM every worker, then their logs' tails (for a failing assertion's message)."""
    for w in workers:
        w.kill(signal.SIGTERM)
    keep = os.environ.get("DRIFTCTL_FLEET_LOGS")  # a directory to keep whole worker logs in
    for w in workers:
        if keep:
            shutil.copy2(w.log, Path(keep) / w.log.name)
        lines = [ln for ln in w.log.read_text(errors="replace").splitlines() if "recover_stalled" not in ln]
        yield f"--- {w.name} ---\n" + "\n".join(lines)[-4000:]
