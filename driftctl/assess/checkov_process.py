"""One long-lived checkov worker per interpreter, reused by every scan (I/O: a child process).

Starting checkov costs seconds (its import), a scan after that tens of milliseconds: ``make demo``'s
five fixes spent most of their time starting checkov five times. The worker
(``checkov_worker.py``, run by checkov's own interpreter) is started on first use — or earlier, by
``warm_up()``, so that its import overlaps Terraform's planning — and kept until the interpreter exits.

It fails closed like the one-shot CLI: a worker that dies, answers garbage or takes longer than the
timeout is killed (its whole process group), the scan raises ``CheckovError``, and the next scan
starts a fresh worker. Scans are serialised (one request at a time per worker).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from driftctl.terraform.runner import signal_group

WORKER = Path(__file__).with_name("checkov_worker.py")
ENV_DISABLE = "DRIFTCTL_CHECKOV_WORKER"  # "0": one checkov process per scan, as before

Clock = Callable[[], float]


class WorkerFailure(Exception):
    """The worker gave no usable answer; ``stderr`` holds the tail of what it printed."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def interpreter_of(binary: Path) -> Path | None:
    """The Python that runs this checkov executable (its venv's ``python``), if there is one."""
    sibling = binary.parent / "python"
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return sibling
    try:
        first = binary.read_bytes()[:256].split(b"\n", 1)[0]
    except OSError:
        return None
    if first.startswith(b"#!"):
        candidate = Path(first[2:].decode(errors="replace").strip().split()[0])
        if candidate.is_file() and os.access(candidate, os.X_OK) and "python" in candidate.name:
            return candidate
    return None


class CheckovWorker:
    """A running ``checkov_worker.py``; ``scan(files, timeout)`` returns checkov's JSON report."""

    def __init__(
        self, python: Path, environment: Callable[[Path], dict[str, str]], clock: Clock = time.monotonic
    ):
        # The pid in the name lets the next run sweep it if this one is killed (driftctl.scratch.sweep).
        self._home = Path(tempfile.mkdtemp(prefix=f"driftctl-checkov-home-{os.getpid()}-"))
        # A file, not a pipe: a chatty checkov can never stall. Closed in close().
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._clock = clock
        self._proc = subprocess.Popen(
            [str(python), "-I", str(WORKER)],  # -I: nothing of our environment's Python leaks in
            cwd=self._home,
            env=environment(self._home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
        )
        self._ready = False
        self._buffer = b""
        self.version = ""

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def scan(self, files: list[Path], timeout: float) -> Any:
        deadline = self._clock() + timeout
        if not self._ready:
            hello = self._read(deadline, "start")
            if not hello.get("ready"):
                raise WorkerFailure(f"checkov worker did not start: {hello!r}"[:300], self.stderr_tail())
            self._ready, self.version = True, str(hello.get("checkov_version", ""))
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write((json.dumps({"files": [str(f) for f in files]}) + "\n").encode())
            self._proc.stdin.flush()
        except OSError as exc:
            raise WorkerFailure(f"checkov worker is gone ({exc})", self.stderr_tail()) from None
        answer = self._read(deadline, "scan")
        if "error" in answer:
            raise WorkerFailure(f"checkov failed: {answer['error']}", self.stderr_tail())
        if "report" not in answer:
            raise WorkerFailure(f"checkov worker answered without a report: {str(answer)[:200]!r}")
        return answer["report"]

    def _read(self, deadline: float, what: str) -> dict[str, Any]:
        stdout: IO[bytes] | None = self._proc.stdout
        assert stdout is not None
        fd = stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - self._clock()
            if left <= 0:
                raise WorkerFailure(
                    f"checkov did not finish the {what} in time and was killed", self.stderr_tail()
                )
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self._proc.wait(timeout=5)
                raise WorkerFailure(
                    f"checkov worker exited {self._proc.returncode} during the {what}", self.stderr_tail()
                )
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            answer = json.loads(line)
        except ValueError:
            raise WorkerFailure(f"checkov worker printed {line[:200]!r}", self.stderr_tail()) from None
        if not isinstance(answer, dict):
            raise WorkerFailure(f"checkov worker printed {line[:200]!r}", self.stderr_tail())
        return answer

    def stderr_tail(self, limit: int = 4000) -> str:
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - limit))
            return self._stderr.read().decode(errors="replace")
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        if self._proc.poll() is None:
            if self._proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()  # end of input: the worker exits on its own
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                signal_group(self._proc, signal.SIGKILL)
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()
        shutil.rmtree(self._home, ignore_errors=True)

    def kill(self) -> None:
        if self._proc.poll() is None:
            signal_group(self._proc, signal.SIGKILL)
            self._proc.wait()
        self.close()


class WorkerPool:
    """At most one worker per checkov interpreter, shared by every thread of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: dict[Path, CheckovWorker] = {}

    def enabled(self, environ: Mapping[str, str] | None = None) -> bool:
        return (os.environ if environ is None else environ).get(ENV_DISABLE, "1") != "0"

    def start(self, python: Path, environment: Callable[[Path], dict[str, str]]) -> None:
        with self._lock:
            self._get(python, environment)

    def scan(
        self, python: Path, environment: Callable[[Path], dict[str, str]], files: list[Path], timeout: float
    ) -> Any:
        with self._lock:
            worker = self._get(python, environment)
            try:
                return worker.scan(files, timeout)
            except WorkerFailure:
                worker.kill()  # the next scan starts a fresh one
                del self._workers[python]
                raise

    def pids(self) -> list[int]:
        """The running workers' process ids (for `driftctl doctor` and tests)."""
        with self._lock:
            return [w.pid for w in self._workers.values() if w.alive]

    def _get(self, python: Path, environment: Callable[[Path], dict[str, str]]) -> CheckovWorker:
        worker = self._workers.get(python)
        if worker is None or not worker.alive:
            if worker is not None:
                worker.kill()
            worker = self._workers[python] = CheckovWorker(python, environment)
        return worker

    def close(self) -> None:
        with self._lock:
            for worker in self._workers.values():
                worker.close()
            self._workers.clear()


POOL = WorkerPool()
atexit.register(POOL.close)
