"""The service's HTTP face: ``/healthz``, ``/readyz``, ``/metrics``, and mounted webhook routes (I/O: HTTP).

Starlette (ASGI) served by uvicorn in a background thread: small, well kept, and the same stack the
forge webhooks use, so `serve` mounts their routes under ``/webhooks/`` on the same listener.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    detail: dict[str, Any]


def build_app(
    *,
    readiness: Callable[[], Readiness],
    metrics: Callable[[], bytes],
    webhook_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The ASGI app; ``webhook_routes`` (e.g. ``driftctl.forge.webhook.webhook_routes(...)``) are
    mounted under ``/webhooks``."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})  # the process answers: that is all liveness means

    async def readyz(_request: Request) -> Response:
        state = readiness()
        return JSONResponse({"ready": state.ready, **state.detail}, status_code=200 if state.ready else 503)

    async def metrics_page(_request: Request) -> Response:
        return Response(metrics(), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_page),
    ]
    if webhook_routes:
        routes.append(Mount("/webhooks", routes=list(webhook_routes)))
    return Starlette(routes=routes)


class HttpServer:
    """uvicorn on ``host:port`` in a daemon thread; signals stay with the main thread."""

    def __init__(self, app: Starlette, listen: str) -> None:
        host, _, port = listen.rpartition(":")
        config = uvicorn.Config(
            app, host=host.strip("[]"), port=int(port), log_config=None, access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, name="driftctl-http", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        waited = 0.0
        while not self.server.started and self._thread.is_alive() and waited < timeout:
            threading.Event().wait(0.02)
            waited += 0.02
        if not self.server.started:
            raise OSError("the HTTP server did not start (is the address in use?)")

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", [])
        for srv in servers:
            for sock in srv.sockets:
                return int(sock.getsockname()[1])
        return int(self.server.config.port)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=5)
