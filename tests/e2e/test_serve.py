"""`driftctl serve` end to end: real processes, real signals, real HTTP on 127.0.0.1, real Terraform.

The workspace's Terraform is wrapped by a script that sleeps before `apply` (and only then), so a test
can act while an apply is running: SIGTERM (the apply must finish) or SIGKILL (the standby takes over
and its next run marks the interrupted action).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from driftctl.audit.store import Entry, Store
from driftctl.sandbox.sandbox import Sandbox
from driftctl.service.notify import verify
from driftctl.terraform import resolve_binary
from tests.unit.service.receiver import Receiver, receiver

pytestmark = pytest.mark.slow

SG = "module.app.module.network.aws_security_group.web"
KEY = "e2e-signing-key"
T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 240, every: float = 0.2) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sb(fast_sandbox: Sandbox) -> Sandbox:
    return fast_sandbox


@pytest.fixture(autouse=True)
def healed(sb: Sandbox) -> Iterator[None]:
    yield
    tf = sb.terraform()
    plan_file = sb.layout.root / "heal.tfplan"
    tf.plan(out=plan_file)
    tf.apply(plan_file)


def slow_apply_terraform(tmp_path: Path, seconds: float) -> Path:
    real = " ".join(resolve_binary().command)
    script = tmp_path / "slow-terraform"
    done = tmp_path / "apply-done"  # touched when an apply ends, even one orphaned by its serve
    script.write_text(
        f'#!/bin/sh\nif [ "$1" = apply ]; then\n  sleep {seconds}; {real} "$@"; rc=$?\n'
        f'  touch {done}; exit $rc\nfi\nexec {real} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def write_config(
    sb: Sandbox, tmp_path: Path, *, schedule: str, service: dict[str, Any], terraform: Path | None = None
) -> Path:
    config = yaml.safe_load(sb.layout.config_file.read_text())
    config["defaults"] = {"mode": "auto", "schedule": schedule}
    if terraform is not None:
        config["defaults"]["terraform"] = str(terraform)
    config["service"] = {"poll": 0.2, "lease_ttl": 3, **service}
    path = sb.layout.root / f"serve-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class Serve:
    """One `driftctl serve` process, its log file and its HTTP address."""

    def __init__(self, config: Path, db: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = log
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "driftctl.cli",
            "serve",
            "-c",
            str(config),
            "--no-checkov",
            "--listen",
            f"127.0.0.1:{self.port}",
            "--log-format",
            "json",
        ]
        full_env = {**os.environ, "DRIFTCTL_DATABASE_URL": f"sqlite:///{db}", **(env or {})}
        self.proc = subprocess.Popen(argv, env=full_env, stdout=subprocess.DEVNULL, stderr=log.open("w"))

    def ready(self) -> dict[str, Any] | None:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).json()  # type: ignore[no-any-return]
        except (httpx.HTTPError, ValueError):
            return None

    def role(self) -> str | None:
        doc = self.ready()
        return doc.get("role") if doc else None

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"message": line})
        return out

    def said(self, pattern: str) -> bool:
        return any(re.search(pattern, d.get("message", "")) for d in self.lines())

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=5).text

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 120) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


@pytest.fixture
def serves() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def audit(db: Path) -> list[Entry]:
    with Store(f"sqlite:///{db}") as store:
        return store.entries()


def rows(db: Path, kind: str, status: str, subject: str | None = None) -> list[Entry]:
    return [e for e in audit(db) if e.kind == kind and e.status == status and subject in (None, e.subject)]


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    return float(match[1]) if match else 0.0


def test_a_drift_heals_on_its_own_and_shows_in_audit_metrics_and_a_signed_webhook(
    sb: Sandbox, tmp_path: Path, serves: list[Serve]
) -> None:
    db = tmp_path / "driftctl.db"
    with receiver([500, 500, 200]) as hook, receiver(["hang"]) as stuck:
        config = write_config(
            sb,
            tmp_path,
            schedule="@every 2s",
            service={
                "delivery": {"timeout": 120, "backoff": 0.5, "backoff_max": 1},
                "notify": [
                    {
                        "name": "hook",
                        "kind": "webhook",
                        "url_env": "HOOK_URL",
                        "secret_env": "HOOK_KEY",
                        "events": ["healed"],
                    },
                    {"name": "stuck", "kind": "webhook", "url_env": "STUCK_URL", "secret_env": "HOOK_KEY"},
                ],
            },
        )
        env = {"HOOK_URL": hook.url, "HOOK_KEY": KEY, "STUCK_URL": stuck.url}
        serves.append(s := Serve(config, db, tmp_path / "serve.log", env))
        wait_for("serve to become active", lambda: s.role() == "active")
        wait_for("a first clean run", lambda: rows(db, "run", "finished"))
        sb.drift("sg-open-world")

        confirmed = wait_for("the heal, confirmed in the audit", lambda: rows(db, "action", "confirmed", SG))
        wait_for("the signed webhook", lambda: hook.answered(200), timeout=60)
        # The hanging sink got its event and still holds it; reconciles go on meanwhile.
        assert stuck.received and not stuck.released.is_set()
        after = confirmed[0].seq
        wait_for(
            "a later reconcile while a sink hangs",
            lambda: [e for e in rows(db, "run", "finished") if e.seq > after],
        )
        assert not stuck.released.is_set() and len(stuck.received) == 1

        (delivered,) = hook.answered(200)  # 500, 500, then 200: delivered exactly once
        assert len(hook.received) == 3
        assert {json.loads(r.body)["id"] for r in hook.received} == {json.loads(delivered.body)["id"]}
        headers = delivered.headers
        assert verify(
            KEY.encode(),
            headers["X-Driftctl-Timestamp"],
            delivered.body,
            headers["X-Driftctl-Signature"],
            now=time.time(),
        )
        doc = json.loads(delivered.body)
        assert doc["version"] == 1 and doc["event"] == "healed" and doc["address"] == SG
        assert doc["workspace"] == "sandbox" and doc["time_to_heal_seconds"] > 0
        assert KEY not in s.log.read_text() and hook.url not in s.log.read_text()

        text = s.metrics()
        assert metric(text, 'driftctl_heals_total{outcome="healed"}') == 1
        assert metric(text, "driftctl_time_to_heal_seconds_count") == 1
        assert metric(text, 'driftctl_reconcile_runs_total{outcome="healed",trigger="schedule"}') == 1
        assert metric(text, 'driftctl_last_success_timestamp_seconds{workspace="sandbox"}') > 0
        assert metric(text, 'driftctl_breaker_open{workspace="sandbox"}') == 0
        assert metric(text, "driftctl_scheduler_active") == 1
        assert httpx.get(f"{s.url}/healthz", timeout=5).json() == {"status": "ok"}

        lines = s.lines()
        assert any(
            d.get("step") == "reconcile" and d.get("workspace") == "sandbox" and d.get("run_id")
            for d in lines
        )
        assert s.stop() == 0


def test_kill_9_of_the_active_serve_hands_over_to_the_standby_which_recovers_the_apply(
    sb: Sandbox, tmp_path: Path, serves: list[Serve], record_property: Any
) -> None:
    db = tmp_path / "driftctl.db"
    config = write_config(
        sb, tmp_path, schedule="@every 2s", service={}, terraform=slow_apply_terraform(tmp_path, 4)
    )
    serves.append(first := Serve(config, db, tmp_path / "first.log"))
    wait_for("the first serve to become active", lambda: first.role() == "active")
    serves.append(second := Serve(config, db, tmp_path / "second.log"))
    wait_for("the second serve to stand by", lambda: second.role() == "standby")

    sb.drift("sg-open-world")
    (started,) = wait_for("an apply to start", lambda: rows(db, "action", "started", SG), every=0.05)
    first.proc.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    assert first.proc.wait(timeout=10) == -signal.SIGKILL
    assert not [e for e in rows(db, "action", "finished", SG) if e.data.get("started_seq") == started.seq]

    wait_for("the standby to take over", lambda: second.role() == "active", timeout=60, every=0.1)
    takeover_s = time.monotonic() - killed_at
    record_property("standby_takeover_seconds", round(takeover_s, 2))
    print(f"\nstandby took over {takeover_s:.1f}s after kill -9 (lease_ttl 3s)")

    interrupted = wait_for(
        "the standby to mark the interrupted apply",
        lambda: [
            e for e in rows(db, "action", "interrupted", SG) if e.data.get("started_seq") == started.seq
        ],
    )
    assert interrupted
    assert second.stop() == 0


def test_sigterm_during_an_apply_lets_it_finish_and_exits_0(
    sb: Sandbox, tmp_path: Path, serves: list[Serve]
) -> None:
    db = tmp_path / "driftctl.db"
    config = write_config(
        sb, tmp_path, schedule="@every 2s", service={}, terraform=slow_apply_terraform(tmp_path, 4)
    )
    serves.append(s := Serve(config, db, tmp_path / "serve.log"))
    wait_for("serve to become active", lambda: s.role() == "active")
    sb.drift("sg-open-world")
    (started,) = wait_for("an apply to start", lambda: rows(db, "action", "started", SG), every=0.05)
    assert s.stop(signal.SIGTERM) == 0
    finished = [e for e in rows(db, "action", "finished", SG) if e.data.get("started_seq") == started.seq]
    assert len(finished) == 1
    assert rows(db, "action", "confirmed", SG)
    assert not rows(db, "alert", "cut_short")
    assert s.said("stopping: no new runs") and s.said("^stopped$")


def test_a_restart_does_not_run_a_window_twice_and_trigger_runs_now(
    sb: Sandbox, tmp_path: Path, serves: list[Serve]
) -> None:
    db = tmp_path / "driftctl.db"
    config = write_config(sb, tmp_path, schedule="0 0 1 1 *", service={})  # once a year
    serves.append(first := Serve(config, db, tmp_path / "first.log"))
    wait_for("the catch-up run of a workspace that never ran", lambda: first.said("reconcile clean"))
    assert first.said("catching up") and first.stop() == 0

    serves.append(second := Serve(config, db, tmp_path / "second.log"))
    wait_for("the restarted serve to schedule", lambda: second.said("^scheduled "))
    assert not second.said("catching up")  # this year's window already ran

    env = {**os.environ, "DRIFTCTL_DATABASE_URL": f"sqlite:///{db}"}
    proc = subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "trigger", "sandbox", "-c", str(config), "--wait", "180"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"queued trigger \d+ for sandbox", proc.stdout)
    assert "sandbox: clean" in proc.stdout
    assert second.stop() == 0
    runs = rows(db, "run", "finished")
    assert len(runs) == 2  # the catch-up, and the trigger: never the same window twice

    bad = subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "trigger", "nope", "-c", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1 and "unknown workspace 'nope'" in bad.stderr


def test_outside_its_maintenance_window_a_fix_is_proposed_not_applied(
    sb: Sandbox, tmp_path: Path, serves: list[Serve]
) -> None:
    db = tmp_path / "driftctl.db"
    tomorrow = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(time.gmtime().tm_wday + 1) % 7]
    window = {"days": [tomorrow], "start": "00:00", "end": "00:01"}  # never now
    config = write_config(sb, tmp_path, schedule="@every 2s", service={"maintenance": {"sandbox": [window]}})
    serves.append(s := Serve(config, db, tmp_path / "serve.log"))
    wait_for("serve to become active", lambda: s.role() == "active")
    sb.drift("sg-open-world")
    (decision,) = wait_for(
        "a decision on the drift", lambda: [e for e in audit(db) if e.kind == "decision" and e.subject == SG]
    )
    assert decision.status == "propose"
    assert any(
        "outside the maintenance window" in r and "proposed, not applied" in r
        for r in decision.data["reasons"]
    )
    assert not rows(db, "action", "started", SG)
    assert s.stop() == 0


def test_a_run_longer_than_the_stop_grace_is_recorded_as_cut_short_and_serve_exits_0(
    sb: Sandbox, tmp_path: Path, serves: list[Serve]
) -> None:
    db = tmp_path / "driftctl.db"
    script = slow_apply_terraform(tmp_path, 8)
    config = write_config(sb, tmp_path, schedule="@every 2s", service={"stop_grace": 1}, terraform=script)
    serves.append(s := Serve(config, db, tmp_path / "serve.log"))
    wait_for("serve to become active", lambda: s.role() == "active")
    sb.drift("sg-open-world")
    wait_for("an apply to start", lambda: rows(db, "action", "started", SG), every=0.05)
    assert s.stop(signal.SIGTERM) == 0
    (cut,) = rows(db, "alert", "cut_short")
    assert cut.workspace == "sandbox" and "unfinished" in cut.data["message"]
    assert s.said("cut short")
    # The orphaned apply runs on in its own session and finishes; wait for it before the next test.
    wait_for("the orphaned apply to end", lambda: (tmp_path / "apply-done").exists(), timeout=120)


def test_sighup_reloads_the_config_and_keeps_it_when_the_new_one_is_broken(
    sb: Sandbox, tmp_path: Path, serves: list[Serve]
) -> None:
    db = tmp_path / "driftctl.db"
    config = write_config(sb, tmp_path, schedule="0 0 1 1 *", service={})
    serves.append(s := Serve(config, db, tmp_path / "serve.log"))
    wait_for("the first schedule", lambda: s.said(r"^scheduled sandbox \(0 0 1 1 \*\)"))
    good = config.read_text()
    config.write_text(
        good.replace("maintenance", "x").replace("service:", "service:\n  maintenance: {nope: []}")
    )
    s.proc.send_signal(signal.SIGHUP)
    wait_for("the broken config to be refused", lambda: s.said("reload failed.*nope"))
    config.write_text(good.replace("0 0 1 1 *", "0 0 2 1 *"))
    s.proc.send_signal(signal.SIGHUP)
    wait_for("the new schedule", lambda: s.said(r"^scheduled sandbox \(0 0 2 1 \*\)"))
    assert s.role() == "active" and s.stop() == 0


__all__ = ["Receiver"]
