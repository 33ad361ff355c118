"""Starts, finds and stops the sandbox's moto server on 127.0.0.1 (I/O: processes, files, HTTP)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from driftctl.errors import SandboxError
from driftctl.sandbox.layout import SandboxLayout

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class MotoServer:
    pid: int
    port: int
    endpoint: str
    started_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): reap it if it is ours, and treat anyone's zombie as dead
    # (some container inits never reap orphans).
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) is the best answer there is
    return stat.rpartition(")")[2].split()[0] != "Z"


def responds(endpoint: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def running_server(layout: SandboxLayout) -> MotoServer | None:
    """The server recorded in the sandbox, if it is still alive and answering."""
    try:
        data = json.loads(layout.server_file.read_text())
        server = MotoServer(**data)
    except (OSError, ValueError, TypeError):
        return None
    if is_alive(server.pid) and responds(server.endpoint):
        return server
    return None


def start_server(layout: SandboxLayout, *, timeout: float = 30.0) -> tuple[MotoServer, bool]:
    """Start moto (or reuse the running one). Returns the server and whether it was started now."""
    existing = running_server(layout)
    if existing is not None:
        return existing, False
    layout.root.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for _ in range(3):  # the port can be taken between free_port() and moto binding it
        port = free_port()
        endpoint = f"http://{HOST}:{port}"
        with layout.moto_log.open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives `driftctl sandbox up`; not killed by its Ctrl-C
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                last_error = f"moto exited with code {proc.returncode}"
                break
            if responds(endpoint, timeout=0.5):
                server = MotoServer(pid=proc.pid, port=port, endpoint=endpoint, started_at=time.time())
                layout.server_file.write_text(server.to_json())
                return server, True
            time.sleep(0.1)
        else:
            kill_group(proc.pid)
            last_error = f"moto did not answer on {endpoint} within {timeout:.0f}s"
    raise SandboxError(f"could not start the moto server: {last_error}", hint=f"see {layout.moto_log}")


def stop_server(layout: SandboxLayout) -> bool:
    """Stop the recorded server. Returns whether one was running. Safe to call twice."""
    try:
        data = json.loads(layout.server_file.read_text())
    except (OSError, ValueError):
        return False
    pid = int(data.get("pid", 0))
    was_running = pid > 0 and is_alive(pid)
    if was_running:
        kill_group(pid)
    layout.server_file.unlink(missing_ok=True)
    return was_running


def kill_group(pid: int, grace: float = 5.0) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not is_alive(pid):
                return
            time.sleep(0.05)
