"""A loopback GitHub (REST v3) and GitLab (REST v4): the subset driftctl uses, in their documented shapes.

State is in memory and inspectable (pull requests, issues, comments, reactions). Requests without
the configured token get 401, unknown routes 404, as the real APIs do. Webhook payload builders
(``issue_comment``, ``Note Hook``) live here too, so tests send what the forges send.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WEB = "https://forge.example"


@dataclass
class ForgeState:
    token: str
    repo: str  # owner/name or group/project
    permissions: dict[str, str] = field(default_factory=dict)  # github: admin|write|read; gitlab: access level
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # statuses to answer the next requests with
    lock: threading.Condition = field(default_factory=threading.Condition)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _iids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def thread_comments(self, kind: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.comments.values() if c["thread"] == (kind, number)]

    def all_text(self) -> str:
        """Every body and title the forge holds: what a leak test searches."""
        with self.lock:
            parts = [c["body"] for c in self.comments.values()]
            for p in [*self.pulls.values(), *self.issues.values()]:
                parts += [p.get("title", ""), p.get("body") or p.get("description") or ""]
            return "\n".join(parts)

    def wait_for(self, predicate: Any, timeout: float = 120) -> None:
        """Block until ``predicate(self)`` holds (a comment was posted…), or fail after ``timeout``."""
        with self.lock:
            if not self.lock.wait_for(lambda: predicate(self), timeout=timeout):
                raise AssertionError("the forge did not see the expected change in time")


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def _user(login: str) -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**6, "type": "User"}


def github_app(state: ForgeState) -> Starlette:
    base = f"/repos/{state.repo}"

    async def guard(request: Request) -> Response | None:
        state.requests.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {state.token}":
            return _json({"message": "Bad credentials"}, 401)
        if state.fail_next:
            return _json({"message": "Server Error"}, state.fail_next.pop(0))
        return None

    def pull_json(p: dict[str, Any]) -> dict[str, Any]:
        return {
            "number": p["number"], "state": p["state"], "title": p["title"], "body": p["body"],
            "html_url": f"{WEB}/{state.repo}/pull/{p['number']}",
            "head": {"ref": p["head"], "label": f"{state.repo.split('/')[0]}:{p['head']}"},
            "base": {"ref": p["base"]}, "user": _user("driftctl"),
        }

    def issue_json(i: dict[str, Any]) -> dict[str, Any]:
        return {
            "number": i["number"], "state": i["state"], "title": i["title"], "body": i["body"],
            "html_url": f"{WEB}/{state.repo}/issues/{i['number']}",
            "labels": [{"name": n} for n in i["labels"]], "user": _user("driftctl"),
        }

    async def pulls(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        with state.lock:
            if request.method == "GET":
                head = request.query_params.get("head", "")
                want = request.query_params.get("state", "open")
                found = [
                    pull_json(p) for p in state.pulls.values()
                    if (not head or f"{state.repo.split('/')[0]}:{p['head']}" == head)
                    and (want == "all" or p["state"] == want)
                ]
                return _json(found)
            data = await request.json()
            if any(p["head"] == data["head"] and p["state"] == "open" for p in state.pulls.values()):
                return _json({"message": "Validation Failed", "errors": [{"message": "A pull request already exists"}]}, 422)
            n = next(state._numbers)
            state.pulls[n] = {"number": n, "state": "open", "title": data["title"], "body": data.get("body", ""),
                              "head": data["head"], "base": data["base"]}
            state.lock.notify_all()
            return _json(pull_json(state.pulls[n]), 201)

    async def pull(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        n = int(request.path_params["number"])
        with state.lock:
            if n not in state.pulls:
                return _json({"message": "Not Found"}, 404)
            data = await request.json()
            state.pulls[n].update({k: v for k, v in data.items() if k in ("title", "body", "state")})
            state.lock.notify_all()
            return _json(pull_json(state.pulls[n]))

    async def issues(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        with state.lock:
            if request.method == "GET":
                label = request.query_params.get("labels")
                want = request.query_params.get("state", "open")
                found = [
                    issue_json(i) for i in state.issues.values()
                    if (not label or label in i["labels"]) and (want == "all" or i["state"] == want)
                ]
