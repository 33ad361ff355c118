"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for tests (does network I/O)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer 200 with a chat completion whose message content is ``content``."""

    content: str
    finish_reason: str = "stop"


@dataclass(frozen=True, slots=True)
class Status:
    """Answer ``status`` with ``body`` (a dict is sent as JSON) and extra headers."""

    status: int
    body: Any = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` before answering with ``then`` (the client may have given up by then)."""

    seconds: float
    then: Reply | Status = field(default_factory=lambda: Status(504, {"error": {"message": "slept"}}))


Step = Reply | Status | Sleep


def reply_json(**fields: Any) -> Reply:
    """A Reply whose content is the JSON of ``fields``."""
    return Reply(json.dumps(fields))


class FakeOpenAI:
    """Plays ``steps`` in order, one per request; the last one repeats once the script runs out.

    Every request is recorded (path, headers, parsed body) so a test can inspect the prompt.
    """

    def __init__(self, steps: Sequence[Step]) -> None:
        if not steps:
            raise ValueError("a script needs at least one step")
        self.steps = list(steps)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01})

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r["body"] for r in self.requests]

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # wakes any handler still sleeping
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next_step(self, record: dict[str, Any]) -> Step:
        with self._lock:
            index = len(self.requests)
            self.requests.append(record)
            return self.steps[min(index, len(self.steps) - 1)]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path not in ("/v1/chat/completions", "/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}}, {})
                    return
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                record = {"path": self.path, "headers": dict(self.headers), "body": body, "raw": raw}
                step = fake._next_step(record)
                if isinstance(step, Sleep):
                    if fake._stop.wait(step.seconds):
                        return
                    step = step.then
                if isinstance(step, Reply):
                    self._send(200, _completion(body, step), {})
                else:
                    self._send(step.status, step.body, step.headers)

            def _send(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        return Handler


def _completion(request: Mapping[str, Any], step: Reply) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": step.content},
                "finish_reason": step.finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 123, "completion_tokens": 45, "total_tokens": 168},
    }


@contextmanager
def fake_openai(steps: Sequence[Step]) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(steps).start()
    try:
        yield server
    finally:
        server.close()
