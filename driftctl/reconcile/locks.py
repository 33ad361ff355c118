"""One reconciler per workspace at a time (I/O: lock files or the shared database).

A file lock (``flock``) when the store is local: the kernel drops it when the holder dies, even by
SIGKILL. A database lock row with a short expiry, renewed by a daemon thread while it is held, when
several machines share one store: a live holder keeps it however long Terraform takes, a dead one
(SIGKILL, lost host) loses it one TTL later. Both are non-blocking: a second reconciler skips the
workspace and says who holds it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from filelock import BaseFileLock

    from driftctl.audit.store import Store

log = logging.getLogger(__name__)
DEFAULT_LOCK_TTL_S = 60.0


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
    """A row in the shared store that expires ``ttl_s`` after its last renewal; held, it is renewed
    every ``renew_every_s`` (a third of the TTL by default) so only a dead holder loses it."""

    def __init__(
        self, store: Store, workspace: str, ttl_s: float, *, renew_every_s: float | None = None
    ) -> None:
        self.store = store
        self.workspace = workspace
        self.ttl_s = ttl_s
        self.renew_every_s = renew_every_s if renew_every_s is not None else ttl_s / 3
        self.renewals = 0
        self.lost = False  # someone took it over between renewals (we were stalled past the TTL)
        self._id = holder_id()
        self._held = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        self._held = self.store.try_lock(self.workspace, self._id, self.ttl_s)
        if self._held:
            self._stop.clear()
            self._renewer = threading.Thread(
                target=self._renew, name=f"lock-renew-{self.workspace}", daemon=True
            )
            self._renewer.start()
        return self._held

    def _renew(self) -> None:
        while not self._stop.wait(self.renew_every_s):
            try:
                if not self.store.try_lock(self.workspace, self._id, self.ttl_s):
                    self.lost = True
                    log.warning("lost the lock on %s to %s", self.workspace, self.holder())
                    return
                self.renewals += 1
            except Exception as exc:  # the database is away for a moment: try again next tick
                log.warning("could not renew the lock on %s: %s", self.workspace, exc)

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self._held:
            self.store.unlock(self.workspace, self._id)
            self._held = False

    def holder(self) -> str:
        row = self.store.lock_holder(self.workspace)
        return "another reconciler" if row is None else f"{row.holder} (database lock)"
