"""The webhook receiver: authenticated, replay-proof comment events → commands (I/O: HTTP in).

`webhook_routes(door)` gives the Starlette routes ``/github`` and ``/gitlab`` that `driftctl serve`
mounts under ``/webhooks/``. For every request, in this order: a body over the size limit → 413; a
missing or bad signature (GitHub: ``X-Hub-Signature-256``, HMAC-SHA256 over the raw body; GitLab:
``X-Gitlab-Token``; both compared in constant time) → 401 and nothing else happens; an event that
is not a new comment on our repository → 202, ignored; a delivery id seen before → 200, ignored; a
comment not addressed to driftctl → 202, ignored. What is left is handed to the `FrontDoor`, which
takes the workspace lock (fail closed: 503) and runs the command after the response is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from driftctl.forge.commands import parse_comment
from driftctl.forge.guards import GuardUnavailable
from driftctl.forge.protocol import Thread, ThreadKind

if TYPE_CHECKING:
    from driftctl.forge.door import FrontDoor

log = logging.getLogger("driftctl.forge")


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """A new comment on a pull request or issue, as both forges describe it."""

    kind: Literal["github", "gitlab"]
    delivery: str
    repo: str
    thread: Thread
    comment_id: int
    comment_url: str
    user: str
    body: str
    thread_body: str  # the pull request's or issue's description: it holds our marker


class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def github_signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


def gitlab_token_ok(secret: str, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(secret.encode(), (header or "").encode())


def github_event(event: str, delivery: str, payload: Any) -> CommentEvent | None:
    if event != "issue_comment" or payload.get("action") != "created":
        return None
    issue, comment = payload.get("issue") or {}, payload.get("comment") or {}
    kind: ThreadKind = "pull" if issue.get("pull_request") else "issue"
    return CommentEvent(
        kind="github",
        delivery=delivery,
        repo=str((payload.get("repository") or {}).get("full_name", "")),
        thread=Thread(kind, int(issue["number"])),
        comment_id=int(comment["id"]),
        comment_url=str(comment.get("html_url", "")),
        user=str((comment.get("user") or {}).get("login", "")),
        body=str(comment.get("body") or ""),
        thread_body=str(issue.get("body") or ""),
    )


def gitlab_event(event: str, delivery: str, payload: Any) -> CommentEvent | None:
    if event != "Note Hook" or payload.get("object_kind") != "note":
        return None
    note = payload.get("object_attributes") or {}
    noteable = note.get("noteable_type")
    kind: ThreadKind
    if noteable == "MergeRequest":
        thread_data, kind = payload.get("merge_request") or {}, "pull"
    elif noteable == "Issue":
        thread_data, kind = payload.get("issue") or {}, "issue"
    else:
        return None  # a comment on a commit or a snippet
    if note.get("action", "create") != "create":
        return None
    return CommentEvent(
        kind="gitlab",
        delivery=delivery,
        repo=str((payload.get("project") or {}).get("path_with_namespace", "")),
        thread=Thread(kind, int(thread_data["iid"])),
        comment_id=int(note["id"]),
        comment_url=str(note.get("url", "")),
        user=str((payload.get("user") or {}).get("username", "")),
        body=str(note.get("note") or ""),
        thread_body=str(thread_data.get("description") or ""),
    )


def _answer(status: int, **data: Any) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def webhook_routes(door: FrontDoor) -> list[Route]:
    """``POST /github`` and ``POST /gitlab`` (only the one matching the configured forge answers 2xx)."""

    async def github(request: Request) -> JSONResponse:
        return await _receive(door, request, "github")

    async def gitlab(request: Request) -> JSONResponse:
        return await _receive(door, request, "gitlab")

    return [Route("/github", github, methods=["POST"]), Route("/gitlab", gitlab, methods=["POST"])]


async def _receive(door: FrontDoor, request: Request, kind: str) -> JSONResponse:
    if kind != door.settings.kind:
        return _answer(404, error=f"this driftctl is configured for {door.settings.kind}")
    try:
        body = await read_body(request, door.settings.max_body_bytes)
    except TooLarge:
        return _answer(413, error=f"the body is over {door.settings.max_body_bytes} bytes")
    headers = request.headers
    secret = door.webhook_secret
    if kind == "github":
        ok = github_signature_ok(secret, body, headers.get("x-hub-signature-256"))
        event_name, delivery = headers.get("x-github-event", ""), headers.get("x-github-delivery", "")
    else:
        ok = gitlab_token_ok(secret, headers.get("x-gitlab-token"))
        event_name = headers.get("x-gitlab-event", "")
        # Idempotency-Key is the same on a retry (GitLab 17.4+); older ones send only the event UUID.
        delivery = headers.get("idempotency-key") or headers.get("x-gitlab-event-uuid") or ""
    if not ok:
        log.warning("webhook %s: missing or bad signature; ignored", kind)
        return _answer(401, error="missing or bad signature")
    if kind == "github" and event_name == "ping":
        return _answer(200, ok="pong")
    try:
        payload = json.loads(body)
        event = (github_event if kind == "github" else gitlab_event)(event_name, delivery, payload)
    except (ValueError, KeyError, TypeError, AttributeError):
        return _answer(400, error="the body is not the JSON of a comment event")
    if event is None:
        return _answer(202, ignored=f"event {event_name or '(none)'} is not a new comment")
    if event.repo.casefold() != door.settings.repo.casefold():
        return _answer(202, ignored="another repository")
    if not delivery:
        return _answer(400, error="no delivery id")
    try:
        if not await run_in_threadpool(door.deliveries.first_time, f"{kind}:{delivery}"):
            return _answer(200, ignored="delivery already seen")
    except GuardUnavailable as exc:
        return _answer(503, error=exc.message)
    if event.user.casefold() == door.settings.bot_name.casefold():
        return _answer(202, ignored="our own comment")
    command = parse_comment(event.body, door.settings.bot_name)
    if command is None:
        return _answer(202, ignored="not a driftctl command")
    try:
        job = await run_in_threadpool(door.accept, event, command)
    except GuardUnavailable as exc:
        return _answer(503, error=exc.message)
    return JSONResponse({"accepted": job.describe}, status_code=202, background=BackgroundTask(job.run))
