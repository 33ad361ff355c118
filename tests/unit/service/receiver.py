"""A webhook receiver on 127.0.0.1 for tests: records every request, answers from a script (network I/O).

``script`` is a list of answers used in order, the last one repeating: an int is a status code,
``"hang"`` holds the connection until the receiver closes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True, slots=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, script: list[int | str]) -> None:
        self.script = script
        self.received: list[Received] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    n = len(receiver.received)
                answer = receiver.script[min(n, len(receiver.script)) - 1]
                if answer == "hang":
                    receiver.released.wait(60)
                    return
                self.send_response(int(answer))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answered(self, status: int = 200) -> list[Received]:
        """Requests that got ``status`` (by their position in the script)."""
        return [r for i, r in enumerate(self.received) if self.script[min(i, len(self.script) - 1)] == status]


@contextmanager
def receiver(script: list[int | str]) -> Iterator[Receiver]:
    r = Receiver(script)
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.released.set()
        r.server.shutdown()
        r.server.server_close()
