"""CloudTrail-via-EventBridge events from SQS → one debounced reconcile per touched workspace (I/O: SQS,
Postgres; parsing, matching and debouncing are pure and take an injected clock).

An event names the call (``eventSource``/``eventName``), who made it (``userIdentity``) and the resource
(ids in ``requestParameters``/``responseElements``). Calls that cannot change a supported resource,
read-only calls, failed calls and driftctl's own calls are dropped; the rest are matched against the
state index and a workspace is reconciled once its events have been quiet for ``debounce_s`` (or
after ``max_wait_s``). The scheduled sweep stays the backstop: delivery is best effort.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftctl.fleet.index import ResourceIndex

log = logging.getLogger(__name__)

# eventSource → the mutating calls that can drift a resource type the sandbox provider and its docs cover
SUPPORTED: Mapping[str, frozenset[str]] = {
    source: frozenset(calls.split())
    for source, calls in {
        "s3.amazonaws.com": """PutBucketTagging DeleteBucketTagging PutBucketVersioning PutBucketPolicy
            DeleteBucketPolicy PutBucketAcl PutBucketPublicAccessBlock DeleteBucketPublicAccessBlock
            PutBucketEncryption DeleteBucketEncryption DeleteBucket""",
        "ec2.amazonaws.com": """AuthorizeSecurityGroupIngress RevokeSecurityGroupIngress
            AuthorizeSecurityGroupEgress RevokeSecurityGroupEgress ModifySecurityGroupRules
            UpdateSecurityGroupRuleDescriptionsIngress DeleteSecurityGroup CreateTags DeleteTags
            ModifyInstanceAttribute ModifyInstanceMetadataOptions StopInstances StartInstances
            TerminateInstances""",
        "iam.amazonaws.com": """PutRolePolicy DeleteRolePolicy AttachRolePolicy DetachRolePolicy
            UpdateAssumeRolePolicy UpdateRole UpdateRoleDescription TagRole UntagRole DeleteRole""",
        "sqs.amazonaws.com": "SetQueueAttributes TagQueue UntagQueue DeleteQueue",
        "logs.amazonaws.com": """PutRetentionPolicy DeleteRetentionPolicy TagLogGroup UntagLogGroup
            TagResource UntagResource DeleteLogGroup""",
    }.items()
}


@dataclass(frozen=True, slots=True)
class ApiCall:
    source: str
    name: str
    principal: str | None
    ids: tuple[str, ...]


def parse_event(body: str | Mapping[str, Any]) -> ApiCall | None:
    """A CloudTrail record, bare or in an EventBridge envelope; None when it is not an API call event."""
    try:
        data = json.loads(body) if isinstance(body, str) else dict(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    detail = data.get("detail", data)
    if not isinstance(detail, dict) or "eventSource" not in detail or "eventName" not in detail:
        return None
    if detail.get("readOnly") is True or detail.get("errorCode"):
        return None  # nothing changed
    identity = detail.get("userIdentity") or {}
    issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
    principal = identity.get("arn") or issuer
    ids = tuple(dict.fromkeys(_strings(detail.get("requestParameters"), detail.get("responseElements"))))
    return ApiCall(str(detail["eventSource"]), str(detail["eventName"]), principal, ids)


def _strings(*values: Any) -> Iterator[str]:
    for value in values:
        if isinstance(value, str) and value:
            yield value
        elif isinstance(value, dict):
            yield from _strings(*value.values())
        elif isinstance(value, list):
            yield from _strings(*value)


def own_call(call: ApiCall, own_principals: tuple[str, ...] | list[str]) -> bool:
    """Whether driftctl itself made the call (its heals must not trigger another reconcile)."""
    if call.principal is None:
        return False
    return any(call.principal == p or call.principal.startswith(p.rstrip("*")) for p in own_principals if p)


def workspaces_for(call: ApiCall, index: ResourceIndex) -> list[str]:
    """The workspaces whose managed resources ``call`` can have drifted."""
    if call.name not in SUPPORTED.get(call.source, frozenset()):
        return []
    return sorted({hit.workspace for hit in index.lookup(call.ids)})


@dataclass
class Debouncer:
    """Per workspace: due once no event came for ``debounce_s``, or ``max_wait_s`` after the first."""

    debounce_s: float
    max_wait_s: float
    clock: Callable[[], float] = time.monotonic
    _pending: dict[str, tuple[float, float]] = field(default_factory=dict)  # ws → (first, last)

    def add(self, workspace: str) -> None:
        now = self.clock()
        first, _ = self._pending.get(workspace, (now, now))
        self._pending[workspace] = (first, now)

    def due(self) -> list[str]:
        """Workspaces to reconcile now (and forget)."""
        now = self.clock()
        ready = [
            ws
            for ws, (first, last) in self._pending.items()
            if now - last >= self.debounce_s or now - first >= self.max_wait_s
        ]
        for ws in ready:
            del self._pending[ws]
        return sorted(ready)

    @property
    def pending(self) -> list[str]:
        return sorted(self._pending)


class Consumer:
    """Reads the queue on a daemon thread; each workspace an event touches gets one reconcile job."""

    def __init__(self, fleet: Any, *, clock: Callable[[], float] = time.monotonic) -> None:
        from driftctl.fleet.jobs import Fleet

        assert isinstance(fleet, Fleet) and fleet.settings.events is not None
        self.fleet = fleet
        self.events = fleet.settings.events
        self.debouncer = Debouncer(self.events.debounce_s, self.events.max_wait_s, clock)
        self.clock = clock
        self.index = ResourceIndex()
        self._indexed_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="driftctl-events", daemon=True)
        self.enqueued: list[str] = []

    def start(self) -> Consumer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.events.poll_wait_s + 5)

    def refresh_index(self) -> None:
        from driftctl.core import resolve_workspaces
        from driftctl.fleet.index import build_index, pull_states

        runtime = self.fleet.runtime()
        targets = [t for t in resolve_workspaces((), runtime) if not self.fleet.settings.opted_out(t.name)]
        started = time.monotonic()
        self.index = build_index(pull_states(targets))
        self._indexed_at = self.clock()
        log.info(
            "events: indexed %d ids of %d workspaces in %.1f s",
            len(self.index.entries),
            len(self.index.workspaces),
            time.monotonic() - started,
        )

    def handle(self, body: str) -> list[str]:
        """One message: the workspaces it adds to the debouncer."""
        call = parse_event(body)
        if call is None or own_call(call, self.events.own_principals):
            return []
        hit = workspaces_for(call, self.index)
        for ws in hit:
            self.debouncer.add(ws)
        return hit

    def _sqs(self) -> Any:
        import boto3

        return boto3.client("sqs", region_name=self.events.region, endpoint_url=self.events.endpoint_url)

    def _run(self) -> None:
        sqs = self._sqs()
        while not self._stop.is_set():
            try:
                self._tick(sqs)
            except Exception as exc:  # a flaky queue or database: log, back off, go on
                log.warning("event consumer: %s", exc)
                self._stop.wait(2.0)

    def _tick(self, sqs: Any) -> None:
        stale = self._indexed_at is None or self.clock() - self._indexed_at >= self.events.index_refresh_s
        if stale:
            self.refresh_index()
        wait = 1 if self.debouncer.pending else self.events.poll_wait_s
        reply = sqs.receive_message(
            QueueUrl=self.events.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait
        )
        for message in reply.get("Messages", []):
            self.handle(message.get("Body", ""))
            sqs.delete_message(QueueUrl=self.events.queue_url, ReceiptHandle=message["ReceiptHandle"])
        due = self.debouncer.due()
        if due:
            self._enqueue(due)

    def _enqueue(self, workspaces: list[str]) -> None:
        import asyncio

        from driftctl.fleet.jobs import build_app, defer_reconcile

        async def defer_all() -> None:
            app = build_app(self.fleet)
            async with app.open_async():
                options = self.fleet.default_options("event")
                for ws in workspaces:
                    await defer_reconcile(app, ws, options, due=time.time())

        asyncio.run(defer_all())
        self.enqueued.extend(workspaces)
        log.info("events: reconcile queued for %s", ", ".join(workspaces))


def start_consumer(fleet: Any) -> Consumer:
    return Consumer(fleet).start()
