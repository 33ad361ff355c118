"""Notification payloads (Slack Block Kit, signed generic webhook) and their delivery (I/O: HTTP).

Webhook body: versioned JSON (``"version": 1``). Headers: ``X-Driftctl-Timestamp`` (unix seconds),
``X-Driftctl-Signature: v1=<hex HMAC-SHA256(key, "<timestamp>.<raw body>")>``, ``X-Driftctl-Event``
and ``X-Driftctl-Delivery`` (the event id: a receiver dedupes on it, since delivery is at least once).
Payloads carry addresses, severities and outcomes, never attribute values. URLs and keys come from
environment variables; an error names the sink, never its URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from driftctl.errors import ConfigError
from driftctl.service.events import Event
from driftctl.service.settings import Sink

PAYLOAD_VERSION = 1
_EMOJI = {
    "new_drift": ":warning:",
    "healed": ":white_check_mark:",
    "needs_human": ":raising_hand:",
    "heal_failed": ":x:",
    "breaker_opened": ":octagonal_sign:",
    "flapping": ":repeat:",
}


def event_json(event: Event) -> dict[str, Any]:
    """The stable, versioned shape of an event (the webhook body, and the outbox's record)."""
    return {
        "version": PAYLOAD_VERSION,
        "id": event.key,
        "event": event.kind,
        "occurred_at": datetime.fromtimestamp(event.at, UTC).isoformat(timespec="seconds"),
        "workspace": event.workspace,
        "address": event.address,
        "severity": event.severity,
        "outcome": event.outcome,
        "proposal_id": event.proposal_id,
        "run_id": event.run_id,
        "summary": event.summary,
        "time_to_heal_seconds": event.time_to_heal_s,
    }


def slack_json(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Block Kit with a plain-text ``text`` fallback (what notifications and old clients show)."""
    text = f"driftctl {doc['event'].replace('_', ' ')}: {doc['summary']} (workspace {doc['workspace']})"
    fields = [
        f"*Workspace*\n{doc['workspace']}",
        f"*Event*\n{doc['event']}",
        *([f"*Severity*\n{doc['severity']}"] if doc.get("severity") else []),
        *([f"*Proposal*\n`driftctl approve {doc['proposal_id']}`"] if doc.get("proposal_id") else []),
    ]
    return {
        "text": text,
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"{_EMOJI.get(doc['event'], '')} *{doc['summary']}*"},
            },
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"run {doc['run_id']} · {doc['occurred_at']}"}],
            },
        ],
    }


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    """``v1=`` + hex HMAC-SHA256 of ``timestamp.body``: what ``X-Driftctl-Signature`` carries."""
    return "v1=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(
    key: bytes, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: float = 300
) -> bool:
    """A receiver's check (also what the tests use): a fresh timestamp and a matching signature."""
    try:
        fresh = abs(now - float(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(key, timestamp, body), signature)


@dataclass(frozen=True, slots=True)
class Target:
    """A sink with its URL and key read from the environment (kept out of reprs and errors)."""

    sink: Sink
    url: str
    key: bytes | None

    def __repr__(self) -> str:
        return f"Target({self.sink.name!r}, {self.sink.kind})"


def resolve_sinks(sinks: list[Sink], env: Mapping[str, str] = os.environ) -> list[Target]:
    """Every sink's URL and key from its environment variables; all missing ones in one ConfigError."""
    missing: list[str] = []
    targets: list[Target] = []
    for sink in sinks:
        url = env.get(sink.url_env, "")
        key = env.get(sink.secret_env, "") if sink.secret_env else None
        if not url:
            missing.append(f"{sink.url_env} (url of sink {sink.name!r})")
        if sink.secret_env and not key:
            missing.append(f"{sink.secret_env} (signing key of sink {sink.name!r})")
        targets.append(Target(sink, url, key.encode() if key else None))
    if missing:
        raise ConfigError("notification settings are missing from the environment: " + ", ".join(missing))
    return targets


@dataclass(frozen=True, slots=True)
class Sent:
    ok: bool
    error: str | None = None  # a status code or an exception class name: never the URL


def deliver(target: Target, payload: str, client: httpx.Client, *, now: float | None = None) -> Sent:
    """POST one stored payload to ``target``; 2xx is delivered, anything else is retried later."""
    doc = json.loads(payload)
    if target.sink.kind == "slack":
        body = json.dumps(slack_json(doc)).encode()
        headers = {"Content-Type": "application/json"}
    else:
        body = payload.encode()
        stamp = str(int(time.time() if now is None else now))
        assert target.key is not None
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "driftctl-webhook/1",
            "X-Driftctl-Event": doc["event"],
            "X-Driftctl-Delivery": doc["id"],
            "X-Driftctl-Timestamp": stamp,
            "X-Driftctl-Signature": sign(target.key, stamp, body),
        }
    try:
        response = client.post(target.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return Sent(False, type(exc).__name__)
    if 200 <= response.status_code < 300:
        return Sent(True)
    return Sent(False, f"HTTP {response.status_code}")
