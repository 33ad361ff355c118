"""The HTTP face on a real uvicorn server on 127.0.0.1 (port 0): health, readiness, metrics, webhooks."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from driftctl.core import ItemResult, Outcome, Status, WorkspaceResult
from driftctl.service.http import HttpServer, Readiness, build_app
from driftctl.service.metrics import Metrics


async def forge(_request: Request) -> Response:
    return PlainTextResponse("forge here")


def test_health_readiness_metrics_and_a_mounted_webhook() -> None:
    state = {"ready": False}
    metrics = Metrics()
    result = WorkspaceResult(
        "prod",
        "auto",
        Status.HEALED,
        (ItemResult("a.b", "high", Outcome.HEALED), ItemResult("c.d", "low", Outcome.PROPOSED)),
        duration_s=3.0,
    )
    metrics.record(result, "schedule", finished_at=1_800_000_000.0)
    app = build_app(
        readiness=lambda: Readiness(state["ready"], {"role": "standby"}),
        metrics=metrics.render,
        webhook_routes=[Route("/github", forge, methods=["POST"])],
    )
    server = HttpServer(app, "127.0.0.1:0")
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=base, timeout=5) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            not_ready = client.get("/readyz")
            assert not_ready.status_code == 503 and not_ready.json() == {"ready": False, "role": "standby"}
            state["ready"] = True
            assert client.get("/readyz").status_code == 200
            text = client.get("/metrics").text
            assert 'driftctl_reconcile_runs_total{outcome="healed",trigger="schedule"} 1.0' in text
            assert 'driftctl_heals_total{outcome="healed"} 1.0' in text
            assert 'driftctl_findings{severity="low"} 1.0' in text  # the proposal is still open
            assert 'driftctl_last_success_timestamp_seconds{workspace="prod"} 1.8e+09' in text
            assert client.post("/webhooks/github").text == "forge here"
            assert client.get("/nothing").status_code == 404
    finally:
        server.stop()


def test_a_severity_with_nothing_left_open_reads_zero() -> None:
    metrics = Metrics()
    drift = WorkspaceResult("prod", "auto", Status.DRIFT, (ItemResult("a.b", "high", Outcome.PROPOSED),))
    metrics.record(drift, "schedule", finished_at=1.0)
    clean = WorkspaceResult("prod", "auto", Status.CLEAN)
    metrics.record(clean, "schedule", finished_at=2.0)
    assert 'driftctl_findings{severity="high"} 0.0' in metrics.render().decode()
