"""The Forge protocol on GitHub's REST API v3 (I/O: HTTP).

Endpoints used: pulls (list by head, create, update), issues (list by label, create, update),
issue comments (create, update) and their reactions, and a collaborator's permission.
"""

from __future__ import annotations

from typing import Any

import httpx

from driftctl.forge.protocol import Comment, Issue, Permission, PullRequest, Reaction, Thread
from driftctl.forge.transport import ForgeHttp

_PERMISSIONS = {"admin": Permission.ADMIN, "maintain": Permission.ADMIN, "write": Permission.WRITE}


class GitHubForge:
    def __init__(
        self,
        repo: str,
        token: str,
        *,
        api_url: str = "https://api.github.com",
        timeout_s: float = 30,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.repo = repo
        self._owner = repo.split("/", 1)[0]
        self._http = ForgeHttp(
            api_url,
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "driftctl",
            },
            timeout_s=timeout_s,
            transport=transport,
        )
        self._base = f"/repos/{repo}"

    def close(self) -> None:
        self._http.close()

    def find_pull(self, head: str) -> PullRequest | None:
        found = self._http.call(
            "GET", f"{self._base}/pulls", params={"state": "open", "head": f"{self._owner}:{head}"}
        )
        pulls = [_pull(p) for p in found or [] if p.get("head", {}).get("ref") == head]
        return pulls[0] if pulls else None

    def open_pull(self, head: str, base: str, title: str, body: str) -> PullRequest:
        data = {"title": title, "head": head, "base": base, "body": body}
        return _pull(self._http.call("POST", f"{self._base}/pulls", json=data))

    def update_pull(
        self, number: int, *, title: str | None = None, body: str | None = None, close: bool = False
    ) -> PullRequest:
        data = _fields(title=title, body=body, state="closed" if close else None)
        return _pull(self._http.call("PATCH", f"{self._base}/pulls/{number}", json=data))

    def find_issue(self, label: str, marker: str) -> Issue | None:
        found = self._http.call(
            "GET",
            f"{self._base}/issues",
            params={"state": "all", "labels": label, "per_page": 100, "sort": "created", "direction": "desc"},
        )
        for item in found or []:
            # The issues endpoint lists pull requests too; those carry a `pull_request` key.
            if "pull_request" not in item and marker in (item.get("body") or ""):
                return _issue(item)
        return None

    def open_issue(self, title: str, body: str, label: str) -> Issue:
        data = {"title": title, "body": body, "labels": [label]}
        return _issue(self._http.call("POST", f"{self._base}/issues", json=data))

    def update_issue(
        self, number: int, *, title: str | None = None, body: str | None = None, open: bool | None = None
    ) -> Issue:
        state = None if open is None else ("open" if open else "closed")
        data = _fields(title=title, body=body, state=state)
        return _issue(self._http.call("PATCH", f"{self._base}/issues/{number}", json=data))

    def comment(self, thread: Thread, body: str) -> Comment:
        # A pull request is an issue for comments: one endpoint for both kinds of thread.
        data = self._http.call("POST", f"{self._base}/issues/{thread.number}/comments", json={"body": body})
        return _comment(data)

    def update_comment(self, thread: Thread, comment_id: int, body: str) -> Comment:
        data = self._http.call("PATCH", f"{self._base}/issues/comments/{comment_id}", json={"body": body})
        return _comment(data)

    def react(self, thread: Thread, comment_id: int, reaction: Reaction) -> None:
        self._http.call(
            "POST", f"{self._base}/issues/comments/{comment_id}/reactions", json={"content": reaction}
        )

    def permission(self, user: str) -> Permission:
        data = self._http.call("GET", f"{self._base}/collaborators/{user}/permission", missing_ok=True)
        if not data:
            return Permission.NONE
        level = str(data.get("permission", "none"))
        return _PERMISSIONS.get(level, Permission.READ if level == "read" else Permission.NONE)


def _fields(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _pull(data: Any) -> PullRequest:
    return PullRequest(
        number=int(data["number"]),
        url=str(data.get("html_url", "")),
        head=str(data.get("head", {}).get("ref", "")),
        open=data.get("state") == "open",
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
    )


def _issue(data: Any) -> Issue:
    return Issue(
        number=int(data["number"]),
        url=str(data.get("html_url", "")),
        open=data.get("state") == "open",
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
    )


def _comment(data: Any) -> Comment:
    return Comment(id=int(data["id"]), url=str(data.get("html_url", "")), body=str(data.get("body") or ""))
