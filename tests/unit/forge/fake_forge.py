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
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

WEB = "https://forge.example"


@dataclass
class ForgeState:
    token: str
    repo: str  # owner/name or group/project
    permissions: dict[str, str] = field(
        default_factory=dict
    )  # github: admin|write|read; gitlab: access level
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
            "number": p["number"],
            "state": p["state"],
            "title": p["title"],
            "body": p["body"],
            "html_url": f"{WEB}/{state.repo}/pull/{p['number']}",
            "head": {"ref": p["head"], "label": f"{state.repo.split('/')[0]}:{p['head']}"},
            "base": {"ref": p["base"]},
            "user": _user("driftctl"),
        }

    def issue_json(i: dict[str, Any]) -> dict[str, Any]:
        return {
            "number": i["number"],
            "state": i["state"],
            "title": i["title"],
            "body": i["body"],
            "html_url": f"{WEB}/{state.repo}/issues/{i['number']}",
            "labels": [{"name": n} for n in i["labels"]],
            "user": _user("driftctl"),
        }

    async def pulls(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        with state.lock:
            if request.method == "GET":
                head = request.query_params.get("head", "")
                want = request.query_params.get("state", "open")
                found = [
                    pull_json(p)
                    for p in state.pulls.values()
                    if (not head or f"{state.repo.split('/')[0]}:{p['head']}" == head)
                    and (want == "all" or p["state"] == want)
                ]
                return _json(found)
            data = await request.json()
            if any(p["head"] == data["head"] and p["state"] == "open" for p in state.pulls.values()):
                return _json(
                    {
                        "message": "Validation Failed",
                        "errors": [{"message": "A pull request already exists"}],
                    },
                    422,
                )
            n = next(state._numbers)
            state.pulls[n] = {
                "number": n,
                "state": "open",
                "title": data["title"],
                "body": data.get("body", ""),
                "head": data["head"],
                "base": data["base"],
            }
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
                    issue_json(i)
                    for i in state.issues.values()
                    if (not label or label in i["labels"]) and (want == "all" or i["state"] == want)
                ]
                return _json(sorted(found, key=lambda x: -x["number"]))
            data = await request.json()
            n = next(state._numbers)
            state.issues[n] = {
                "number": n,
                "state": "open",
                "title": data["title"],
                "body": data.get("body", ""),
                "labels": list(data.get("labels", [])),
            }
            state.lock.notify_all()
            return _json(issue_json(state.issues[n]), 201)

    async def issue(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        n = int(request.path_params["number"])
        with state.lock:
            if n not in state.issues:
                return _json({"message": "Not Found"}, 404)
            data = await request.json()
            state.issues[n].update({k: v for k, v in data.items() if k in ("title", "body", "state")})
            state.lock.notify_all()
            return _json(issue_json(state.issues[n]))

    async def comments(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        n = int(request.path_params["number"])
        with state.lock:
            kind = "pull" if n in state.pulls else "issue" if n in state.issues else None
            if kind is None:
                return _json({"message": "Not Found"}, 404)
            data = await request.json()
            cid = next(state._ids)
            state.comments[cid] = {"id": cid, "thread": (kind, n), "body": data["body"], "reactions": []}
            state.lock.notify_all()
            return _json(
                {
                    "id": cid,
                    "body": data["body"],
                    "user": _user("driftctl"),
                    "html_url": f"{WEB}/{state.repo}/issues/{n}#issuecomment-{cid}",
                },
                201,
            )

    async def comment(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        cid = int(request.path_params["id"])
        with state.lock:
            if cid not in state.comments:
                return _json({"message": "Not Found"}, 404)
            state.comments[cid]["body"] = (await request.json())["body"]
            state.lock.notify_all()
            return _json(
                {"id": cid, "body": state.comments[cid]["body"], "html_url": f"{WEB}#issuecomment-{cid}"}
            )

    async def reactions(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        cid = int(request.path_params["id"])
        content = (await request.json())["content"]
        if content not in ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"):
            return _json({"message": "Validation Failed"}, 422)
        with state.lock:
            state.comments.setdefault(cid, {"id": cid, "thread": None, "body": "", "reactions": []})
            state.comments[cid]["reactions"].append(content)
            state.lock.notify_all()
        return _json({"id": 1, "content": content, "user": _user("driftctl")}, 201)

    async def permission(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        user = request.path_params["user"]
        if user not in state.permissions:
            return _json({"message": f"{user} is not a user"}, 404)
        level = state.permissions[user]
        return _json({"permission": level, "role_name": level, "user": _user(user)})

    return Starlette(
        routes=[
            Route(f"{base}/pulls", pulls, methods=["GET", "POST"]),
            Route(f"{base}/pulls/{{number:int}}", pull, methods=["PATCH"]),
            Route(f"{base}/issues", issues, methods=["GET", "POST"]),
            Route(f"{base}/issues/{{number:int}}", issue, methods=["PATCH"]),
            Route(f"{base}/issues/{{number:int}}/comments", comments, methods=["POST"]),
            Route(f"{base}/issues/comments/{{id:int}}", comment, methods=["PATCH"]),
            Route(f"{base}/issues/comments/{{id:int}}/reactions", reactions, methods=["POST"]),
            Route(f"{base}/collaborators/{{user}}/permission", permission, methods=["GET"]),
        ]
    )


def gitlab_app(state: ForgeState) -> Starlette:
    async def guard(request: Request) -> Response | None:
        state.requests.append((request.method, request.url.path))
        if request.headers.get("private-token") != state.token:
            return _json({"message": "401 Unauthorized"}, 401)
        if not request.scope["raw_path"].startswith(f"/projects/{quote(state.repo, safe='')}/".encode()):
            return _json({"message": "404 Project Not Found"}, 404)
        if state.fail_next:
            return _json({"message": "500 Internal Server Error"}, state.fail_next.pop(0))
        return None

    def mr_json(m: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": 5000 + m["iid"],
            "iid": m["iid"],
            "state": m["state"],
            "title": m["title"],
            "description": m["description"],
            "source_branch": m["source_branch"],
            "target_branch": m["target_branch"],
            "web_url": f"{WEB}/{state.repo}/-/merge_requests/{m['iid']}",
        }

    def issue_json(i: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": 7000 + i["iid"],
            "iid": i["iid"],
            "state": i["state"],
            "title": i["title"],
            "description": i["description"],
            "labels": i["labels"],
            "web_url": f"{WEB}/{state.repo}/-/issues/{i['iid']}",
        }

    async def mrs(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        with state.lock:
            if request.method == "GET":
                source = request.query_params.get("source_branch")
                want = request.query_params.get("state", "all")
                return _json(
                    [
                        mr_json(m)
                        for m in state.pulls.values()
                        if (not source or m["source_branch"] == source) and want in ("all", m["state"])
                    ]
                )
            data = await request.json()
            if any(
                m["source_branch"] == data["source_branch"] and m["state"] == "opened"
                for m in state.pulls.values()
            ):
                return _json(
                    {"message": ["Another open merge request already exists for this source branch"]}, 409
                )
            iid = next(state._iids)
            state.pulls[iid] = {
                "iid": iid,
                "state": "opened",
                "title": data["title"],
                "description": data.get("description", ""),
                "source_branch": data["source_branch"],
                "target_branch": data["target_branch"],
            }
            state.lock.notify_all()
            return _json(mr_json(state.pulls[iid]), 201)

    async def mr(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        iid = int(request.path_params["iid"])
        with state.lock:
            if iid not in state.pulls:
                return _json({"message": "404 Not found"}, 404)
            data = await request.json()
            m = state.pulls[iid]
            m.update({k: v for k, v in data.items() if k in ("title", "description")})
            if data.get("state_event") == "close":
                m["state"] = "closed"
            state.lock.notify_all()
            return _json(mr_json(m))

    async def issues(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        with state.lock:
            if request.method == "GET":
                labels = request.query_params.get("labels")
                want = request.query_params.get("state")
                return _json(
                    [
                        issue_json(i)
                        for i in sorted(state.issues.values(), key=lambda x: -x["iid"])
                        if (not labels or labels in i["labels"]) and (not want or want == i["state"])
                    ]
                )
            data = await request.json()
            iid = 100 + len(state.issues) + 1  # issues and merge requests number apart
            state.issues[iid] = {
                "iid": iid,
                "state": "opened",
                "title": data["title"],
                "description": data.get("description", ""),
                "labels": [x for x in str(data.get("labels", "")).split(",") if x],
            }
            state.lock.notify_all()
            return _json(issue_json(state.issues[iid]), 201)

    async def issue(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        iid = int(request.path_params["iid"])
        with state.lock:
            if iid not in state.issues:
                return _json({"message": "404 Not found"}, 404)
            data = await request.json()
            i = state.issues[iid]
            i.update({k: v for k, v in data.items() if k in ("title", "description")})
            if data.get("state_event") in ("close", "reopen"):
                i["state"] = "closed" if data["state_event"] == "close" else "opened"
            state.lock.notify_all()
            return _json(issue_json(i))

    def kind_of(request: Request) -> str:
        return "pull" if request.path_params["things"] == "merge_requests" else "issue"

    async def notes(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        iid, kind = int(request.path_params["iid"]), kind_of(request)
        with state.lock:
            if iid not in (state.pulls if kind == "pull" else state.issues):
                return _json({"message": "404 Not found"}, 404)
            body = (await request.json())["body"]
            nid = next(state._ids)
            state.comments[nid] = {"id": nid, "thread": (kind, iid), "body": body, "reactions": []}
            state.lock.notify_all()
            return _json({"id": nid, "body": body, "author": {"username": "driftctl"}, "system": False}, 201)

    async def note(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        nid = int(request.path_params["id"])
        with state.lock:
            if nid not in state.comments:
                return _json({"message": "404 Not found"}, 404)
            state.comments[nid]["body"] = (await request.json())["body"]
            state.lock.notify_all()
            return _json({"id": nid, "body": state.comments[nid]["body"]})

    async def award(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        nid = int(request.path_params["id"])
        name = (await request.json())["name"]
        with state.lock:
            state.comments.setdefault(nid, {"id": nid, "thread": None, "body": "", "reactions": []})
            state.comments[nid]["reactions"].append(name)
            state.lock.notify_all()
        return _json({"id": 1, "name": name, "awardable_type": "Note"}, 201)

    async def members(request: Request) -> Response:
        if (denied := await guard(request)) is not None:
            return denied
        query = request.query_params.get("query", "")
        return _json(
            [
                {"id": abs(hash(u)) % 10**6, "username": u, "state": "active", "access_level": int(level)}
                for u, level in state.permissions.items()
                if query.lower() in u.lower()
            ]
        )

    # Routing sees the decoded path; `guard` checks the raw one used the URL-encoded project path.
    project = "/projects/" + state.repo
    routes = [
        Route(f"{project}/merge_requests", mrs, methods=["GET", "POST"]),
        Route(f"{project}/merge_requests/{{iid:int}}", mr, methods=["PUT"]),
        Route(f"{project}/issues", issues, methods=["GET", "POST"]),
        Route(f"{project}/issues/{{iid:int}}", issue, methods=["PUT"]),
        Route(f"{project}/{{things}}/{{iid:int}}/notes", notes, methods=["POST"]),
        Route(f"{project}/{{things}}/{{iid:int}}/notes/{{id:int}}", note, methods=["PUT"]),
        Route(f"{project}/{{things}}/{{iid:int}}/notes/{{id:int}}/award_emoji", award, methods=["POST"]),
        Route(f"{project}/members/all", members, methods=["GET"]),
    ]
    return Starlette(routes=routes)


# -- webhook payloads, as the forges send them ---------------------------------------------------------


def github_comment_payload(
    state: ForgeState, number: int, user: str, body: str, comment_id: int
) -> dict[str, Any]:
    """An ``issue_comment`` ``created`` event (the fields driftctl reads, plus their usual neighbours)."""
    thread = state.pulls.get(number) or state.issues.get(number) or {"title": "", "body": ""}
    issue: dict[str, Any] = {
        "number": number,
        "title": thread["title"],
        "body": thread["body"],
        "state": "open",
        "user": _user("driftctl"),
    }
    if number in state.pulls:
        issue["pull_request"] = {"url": f"https://api.example/repos/{state.repo}/pulls/{number}"}
    return {
        "action": "created",
        "issue": issue,
        "comment": {
            "id": comment_id,
            "body": body,
            "user": _user(user),
            "html_url": f"{WEB}/{state.repo}/issues/{number}#issuecomment-{comment_id}",
        },
        "repository": {"full_name": state.repo, "name": state.repo.split("/")[1]},
        "sender": _user(user),
    }


def gitlab_note_payload(
    state: ForgeState, kind: str, iid: int, user: str, body: str, note_id: int
) -> dict[str, Any]:
    """A ``Note Hook`` event on a merge request or an issue."""
    thread = (state.pulls if kind == "pull" else state.issues).get(iid, {"title": "", "description": ""})
    noteable = "MergeRequest" if kind == "pull" else "Issue"
    page = "merge_requests" if kind == "pull" else "issues"
    payload: dict[str, Any] = {
        "object_kind": "note",
        "event_type": "note",
        "user": {"id": 42, "name": user.title(), "username": user},
        "project": {"id": 1, "path_with_namespace": state.repo},
        "object_attributes": {
            "id": note_id,
            "note": body,
            "noteable_type": noteable,
            "action": "create",
            "url": f"{WEB}/{state.repo}/-/{page}/{iid}#note_{note_id}",
        },
    }
    key = "merge_request" if kind == "pull" else "issue"
    payload[key] = {"iid": iid, "title": thread["title"], "description": thread.get("description", "")}
    return payload


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
