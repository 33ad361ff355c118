"""Payloads, signatures, and outbox delivery against real HTTP receivers on 127.0.0.1 (injected clock)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from driftctl.audit.store import Store
from driftctl.errors import ConfigError
from driftctl.service.events import Event
from driftctl.service.notify import Target, deliver, event_json, resolve_sinks, sign, slack_json, verify
from driftctl.service.outbox import Dispatcher, Outbox, backoff
from driftctl.service.runs import open_service_tables
from driftctl.service.settings import Delivery, Sink
from tests.unit.service.receiver import receiver

KEY = b"k3y-for-tests"
EVENT = Event(
    "healed",
    "ws",
    "run1",
    1_800_000_000.0,
    address="aws_sqs_queue.q",
    severity="low",
    outcome="healed",
    summary="aws_sqs_queue.q healed 12s after first seen",
    time_to_heal_s=12.0,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def webhook(url: str) -> Target:
    return Target(Sink(name="hook", kind="webhook", url_env="U", secret_env="K"), url, KEY)


def test_the_webhook_body_is_versioned_and_signed_verifiably() -> None:
    with receiver([200]) as r:
        with httpx.Client(timeout=5) as client:
            sent = deliver(webhook(r.url), json.dumps(event_json(EVENT)), client, now=EVENT.at)
        assert sent.ok
        (got,) = r.received
    doc = json.loads(got.body)
    assert doc["version"] == 1 and doc["event"] == "healed" and doc["id"] == EVENT.key
    stamp, signature = got.headers["X-Driftctl-Timestamp"], got.headers["X-Driftctl-Signature"]
    assert verify(KEY, stamp, got.body, signature, now=EVENT.at + 10)
    assert not verify(b"other", stamp, got.body, signature, now=EVENT.at)
    assert not verify(KEY, stamp, got.body + b" ", signature, now=EVENT.at)  # a changed body
    assert not verify(KEY, stamp, got.body, signature, now=EVENT.at + 3600)  # a replayed one
    assert got.headers["X-Driftctl-Delivery"] == EVENT.key


def test_signature_format_is_documented_hmac_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(KEY, b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign(KEY, "1700000000", b"{}") == f"v1={expected}"


def test_slack_has_blocks_and_a_plain_text_fallback() -> None:
    doc = slack_json(event_json(EVENT))
    assert "healed" in doc["text"] and "ws" in doc["text"]
    assert [b["type"] for b in doc["blocks"]] == ["section", "section", "context"]


def test_missing_env_vars_are_named_and_values_never_shown() -> None:
    sinks = [Sink(name="ops", kind="webhook", url_env="OPS_URL", secret_env="OPS_KEY")]
    with pytest.raises(ConfigError) as err:
        resolve_sinks(sinks, {"OPS_URL": "https://secret-host.example/xyz"})
    assert "OPS_KEY" in err.value.message and "secret-host" not in err.value.message
    (target,) = resolve_sinks(sinks, {"OPS_URL": "https://secret-host.example/xyz", "OPS_KEY": "k"})
    assert "secret-host" not in repr(target)


def test_webhook_sinks_must_be_signed() -> None:
    with pytest.raises(ValueError, match="secret_env"):
        Sink(name="x", kind="webhook", url_env="U")


def test_backoff_doubles_up_to_its_cap() -> None:
    d = Delivery(backoff=2, backoff_max=10)
    assert [backoff(n, d) for n in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'driftctl.db'}")
    open_service_tables(s)
    return s


def drain(dispatcher: Dispatcher) -> None:
    """Run one delivery pass for every sink and wait for it (tests only; the service never waits)."""
    dispatcher.tick()
    dispatcher.flush(timeout=30)


def test_500_twice_then_200_is_delivered_exactly_once(store: Store) -> None:
    clock = Clock()
    outbox = Outbox(store, Delivery(backoff=30, backoff_max=300), clock=clock)
    with receiver([500, 500, 200]) as r:
        target = webhook(r.url)
        assert outbox.enqueue([EVENT], [target]) == 1
        assert outbox.enqueue([EVENT], [target]) == 0  # the same change again: deduplicated
        dispatcher = Dispatcher(outbox, [target])
        drain(dispatcher)
        drain(dispatcher)  # not due yet: backoff 30 s
        assert len(r.received) == 1
        clock.now += 30
        drain(dispatcher)
        assert len(r.received) == 2
        clock.now += 59
        drain(dispatcher)
        assert len(r.received) == 2  # second backoff is 60 s
        clock.now += 1
        drain(dispatcher)
        clock.now += 3600
        drain(dispatcher)
        dispatcher.close()
    assert len(r.received) == 3
    assert len(r.answered(200)) == 1
    (row,) = outbox.rows()
    assert row.delivered_at is not None and row.attempts == 3 and row.last_error is None


def test_a_row_is_given_up_after_its_attempts_and_kept(store: Store) -> None:
    clock = Clock()
    outbox = Outbox(store, Delivery(attempts=2, backoff=1), clock=clock)
    with receiver([503]) as r:
        target = webhook(r.url)
        outbox.enqueue([EVENT], [target])
        dispatcher = Dispatcher(outbox, [target])
        for _ in range(4):
            drain(dispatcher)
            clock.now += 100
        dispatcher.close()
    assert len(r.received) == 2
    (row,) = outbox.rows()
    assert row.dead and row.delivered_at is None and row.last_error == "HTTP 503"


def test_a_hanging_endpoint_blocks_neither_the_caller_nor_another_sink(store: Store) -> None:
    outbox = Outbox(store, Delivery(timeout=2), clock=Clock())
    with receiver(["hang"]) as slow, receiver([200]) as fast:
        slow_t = webhook(slow.url)
        fast_t = Target(Sink(name="fast", kind="webhook", url_env="U", secret_env="K"), fast.url, KEY)
        outbox.enqueue([EVENT], [slow_t, fast_t])
        dispatcher = Dispatcher(outbox, [slow_t, fast_t])
        dispatcher.tick()  # hands both sinks to their threads and returns
        while not fast.received or dispatcher.in_flight("fast"):
            time.sleep(0.01)
        assert dispatcher.in_flight("hook")  # still hanging, on its own thread; fast was delivered
        dispatcher.flush(timeout=10)  # the client's timeout ends it
        dispatcher.close()
    by_sink = {row.sink: row for row in outbox.rows()}
    assert by_sink["fast"].delivered_at is not None
    assert by_sink["hook"].delivered_at is None and by_sink["hook"].last_error == "ReadTimeout"


def test_the_documented_receiver_accepts_our_signature_and_rejects_a_forgery(tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[3] / "docs" / "examples" / "webhook_receiver.py"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HOOK_KEY": KEY.decode()}
    proc = subprocess.Popen(
        [sys.executable, str(script), f"127.0.0.1:{port}"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and "listening" in proc.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        payload = json.dumps(event_json(EVENT))
        with httpx.Client(timeout=5) as client:
            assert deliver(webhook(url), payload, client).ok
            forged = Target(Sink(name="x", kind="webhook", url_env="U", secret_env="K"), url, b"wrong")
            assert deliver(forged, payload, client).error == "HTTP 401"
        assert proc.stdout.readline().startswith("verified healed: aws_sqs_queue.q healed")
        assert proc.stdout.readline().startswith("REJECTED")
    finally:
        proc.kill()
        proc.wait()


def test_slack_gets_block_kit_with_a_fallback_and_no_signature() -> None:
    slack = Target(Sink(name="chat", kind="slack", url_env="SLACK_URL"), "", None)
    with receiver([200]) as r:
        slack = Target(slack.sink, r.url, None)
        with httpx.Client(timeout=5) as client:
            assert deliver(slack, json.dumps(event_json(EVENT)), client).ok
        (got,) = r.received
    doc = json.loads(got.body)
    assert doc["text"].startswith("driftctl healed: aws_sqs_queue.q healed")
    assert doc["blocks"][0]["text"]["type"] == "mrkdwn"
    assert "X-Driftctl-Signature" not in got.headers
