"""The Forge protocol on GitLab's REST API v4 (I/O: HTTP).

Endpoints used: merge requests (list by source branch, create, update), issues (list by label,
create, update), notes on both (create, update) and their award emoji, and project members
(inherited ones included) for a user's access level. The project is addressed by its URL-encoded path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from driftctl.forge.protocol import Comment, Issue, Permission, PullRequest, Reaction, Thread
from driftctl.forge.transport import ForgeHttp

_EMOJI = {"eyes": "eyes", "+1": "thumbsup", "-1": "thumbsdown", "confused": "confused", "rocket": "rocket"}
DEVELOPER, MAINTAINER, REPORTER = 30, 40, 20  # GitLab access levels; Developer can push: "write"


class GitLabForge:
    def __init__(
        self,
        repo: str,
        token: str,
        *,
        api_url: str = "https://gitlab.com/api/v4",
        timeout_s: float = 30,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.repo = repo
        self._http = ForgeHttp(
            api_url,
            {"PRIVATE-TOKEN": token, "User-Agent": "driftctl"},
            timeout_s=timeout_s,
            transport=transport,
        )
        self._base = f"/projects/{quote(repo, safe='')}"
        self._urls: dict[Thread, str] = {}

    def close(self) -> None:
        self._http.close()

    def find_pull(self, head: str) -> PullRequest | None:
        found = self._http.call(
            "GET", f"{self._base}/merge_requests", params={"state": "opened", "source_branch": head}
        )
        pulls = [self._pull(p) for p in found or [] if p.get("source_branch") == head]
        return pulls[0] if pulls else None

    def open_pull(self, head: str, base: str, title: str, body: str) -> PullRequest:
        data = {"source_branch": head, "target_branch": base, "title": title, "description": body}
        return self._pull(self._http.call("POST", f"{self._base}/merge_requests", json=data))

    def update_pull(
        self, number: int, *, title: str | None = None, body: str | None = None, close: bool = False
    ) -> PullRequest:
        data = _fields(title=title, description=body, state_event="close" if close else None)
        return self._pull(self._http.call("PUT", f"{self._base}/merge_requests/{number}", json=data))

    def find_issue(self, label: str, marker: str) -> Issue | None:
        found = self._http.call(
            "GET",
            f"{self._base}/issues",
            params={"labels": label, "per_page": 100, "order_by": "created_at", "sort": "desc"},
        )
        for item in found or []:
            if marker in (item.get("description") or ""):
                return self._issue(item)
        return None

    def open_issue(self, title: str, body: str, label: str) -> Issue:
        data = {"title": title, "description": body, "labels": label}
        return self._issue(self._http.call("POST", f"{self._base}/issues", json=data))

    def update_issue(
        self, number: int, *, title: str | None = None, body: str | None = None, open: bool | None = None
    ) -> Issue:
        event = None if open is None else ("reopen" if open else "close")
        data = _fields(title=title, description=body, state_event=event)
        return self._issue(self._http.call("PUT", f"{self._base}/issues/{number}", json=data))

    def comment(self, thread: Thread, body: str) -> Comment:
        data = self._http.call("POST", f"{self._notes(thread)}", json={"body": body})
        return self._comment(thread, data)

    def update_comment(self, thread: Thread, comment_id: int, body: str) -> Comment:
        data = self._http.call("PUT", f"{self._notes(thread)}/{comment_id}", json={"body": body})
        return self._comment(thread, data)

    def react(self, thread: Thread, comment_id: int, reaction: Reaction) -> None:
        self._http.call(
            "POST", f"{self._notes(thread)}/{comment_id}/award_emoji", json={"name": _EMOJI[reaction]}
        )

    def permission(self, user: str) -> Permission:
        found = self._http.call("GET", f"{self._base}/members/all", params={"query": user, "per_page": 100})
        levels = [
            int(m.get("access_level", 0))
            for m in found or []
            if str(m.get("username", "")).casefold() == user.casefold()
            and m.get("state", "active") == "active"
        ]
        level = max(levels, default=0)
        if level >= MAINTAINER:
            return Permission.ADMIN
        if level >= DEVELOPER:
            return Permission.WRITE
        return Permission.READ if level >= REPORTER else Permission.NONE

    def _notes(self, thread: Thread) -> str:
        kind = "merge_requests" if thread.kind == "pull" else "issues"
        return f"{self._base}/{kind}/{thread.number}/notes"

    def _pull(self, data: Any) -> PullRequest:
        pull = PullRequest(
            number=int(data["iid"]),
            url=str(data.get("web_url", "")),
            head=str(data.get("source_branch", "")),
            open=data.get("state") == "opened",
            title=str(data.get("title") or ""),
            body=str(data.get("description") or ""),
        )
        self._urls[Thread("pull", pull.number)] = pull.url
        return pull

    def _issue(self, data: Any) -> Issue:
        issue = Issue(
            number=int(data["iid"]),
            url=str(data.get("web_url", "")),
            open=data.get("state") == "opened",
            title=str(data.get("title") or ""),
            body=str(data.get("description") or ""),
        )
        self._urls[Thread("issue", issue.number)] = issue.url
        return issue

    def _comment(self, thread: Thread, data: Any) -> Comment:
        # A note carries no URL of its own; GitLab links it as an anchor on its thread's page.
        base = self._urls.get(thread, "")
        note = int(data["id"])
        return Comment(id=note, url=f"{base}#note_{note}" if base else "", body=str(data.get("body") or ""))


def _fields(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
