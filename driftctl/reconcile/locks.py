"""One reconciler per workspace at a time (I/O: lock files or the shared database).

A file lock (``flock``) when the store is local: the kernel drops it when the holder dies, even by
SIGKILL. A database lock row with an expiry when several machines share one store. Both are
non-blocking: a second reconciler skips the workspace and says who holds it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from filelock import BaseFileLock

    from driftctl.audit.store import Store


def holder_id() -> str:
    """This process, as other reconcilers will see it: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class WorkspaceLock(Protocol):
    def acquire(self) -> bool:
        """Take the lock without waiting; False if someone else holds it."""
        ...

    def release(self) -> None: ...

    def holder(self) -> str:
        """Who holds it, in words (best effort)."""
        ...


class FileWorkspaceLock:
    def __init__(self, directory: Path, workspace: str) -> None:
        from filelock import FileLock

        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = directory / f"{workspace}.lock"
        self._info = directory / f"{workspace}.holder"
        self._lock: BaseFileLock = FileLock(str(self.path), timeout=0)
        self._id = holder_id()

    def acquire(self) -> bool:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        self._info.write_text(json.dumps({"holder": self._id, "since": time.time()}))
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._info.unlink(missing_ok=True)
            self._lock.release()

    def holder(self) -> str:
        try:
            info = json.loads(self._info.read_text())
        except (OSError, ValueError):
            return "another reconciler"
        return f"{info.get('holder', 'another reconciler')} (lock file {self.path})"


class DatabaseWorkspaceLock:
    """A row in the shared store; expires after ``ttl_s`` so a dead machine cannot hold it forever."""

    def __init__(self, store: Store, workspace: str, ttl_s: float) -> None:
        self.store = store
        self.workspace = workspace
        self.ttl_s = ttl_s
        self._id = holder_id()
        self._held = False

    def acquire(self) -> bool:
        self._held = self.store.try_lock(self.workspace, self._id, self.ttl_s)
        return self._held

    def release(self) -> None:
        if self._held:
            self.store.unlock(self.workspace, self._id)
            self._held = False

    def holder(self) -> str:
        row = self.store.lock_holder(self.workspace)
        return "another reconciler" if row is None else f"{row.holder} (database lock)"
