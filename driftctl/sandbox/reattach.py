"""A long-lived sandbox provider that Terraform reattaches to instead of starting (I/O: processes, files).

Terraform starts a provider about three times per plan and the Python provider takes ~0.4 s to start
(grpc, tf, then boto3 and its service models on the first read). Started once in ``--dev`` mode and
named in ``TF_REATTACH_PROVIDERS``, it is started zero times per plan: `make bench` shows the ratio.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from driftctl.errors import SandboxError
from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.server import is_alive, kill_group

_MARKER = "TF_REATTACH_PROVIDERS='"


@dataclass(frozen=True, slots=True)
class ProviderDaemon:
    pid: int
    reattach: str  # the JSON value for TF_REATTACH_PROVIDERS

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def running_provider(layout: SandboxLayout) -> ProviderDaemon | None:
    try:
        daemon = ProviderDaemon(**json.loads(layout.provider_file.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return daemon if is_alive(daemon.pid) else None


def start_provider(
    layout: SandboxLayout, script: str, env: Mapping[str, str], *, timeout: float = 30.0
) -> ProviderDaemon:
    """Start the provider in dev mode (or reuse the running one) and record how to reattach."""
    existing = running_provider(layout)
    if existing is not None:
        return existing
    log_path = layout.root / "provider.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [script, "--dev"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**env, "PYTHONUNBUFFERED": "1"},  # the reattach line must reach the log now
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text()
        if _MARKER in text:
            reattach = text.split(_MARKER, 1)[1].split("'", 1)[0]
            daemon = ProviderDaemon(pid=proc.pid, reattach=reattach)
            layout.provider_file.write_text(daemon.to_json())
            return daemon
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    kill_group(proc.pid)
    raise SandboxError("the sandbox provider did not start in dev mode", hint=f"see {log_path}")


def stop_provider(layout: SandboxLayout) -> bool:
    daemon = running_provider(layout)
    if daemon is not None:
        kill_group(daemon.pid)
    layout.provider_file.unlink(missing_ok=True)
    return daemon is not None
