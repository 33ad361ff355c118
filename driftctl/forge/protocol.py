"""The one interface driftctl needs from a forge, and the values it passes around (no I/O).

A forge holds pull requests (GitLab: merge requests), issues, comments on both, reactions and users'
permissions. `GitHubForge` (REST v3) and `GitLabForge` (REST v4) implement it; a test runs the same
contract against both, talking to a loopback server that speaks each API.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal, Protocol

from driftctl.errors import DriftctlError

ThreadKind = Literal["pull", "issue"]
Reaction = Literal["eyes", "+1", "-1", "confused", "rocket"]


class ForgeError(DriftctlError):
    """A forge API call that failed: the method, the path and the status, never a token."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class Permission(IntEnum):
    """A user's access to the repository, in order: only WRITE and above may approve or apply."""

    NONE = 0
    READ = 1
    WRITE = 2
    ADMIN = 3


@dataclass(frozen=True, slots=True)
class Thread:
    """Where a comment lives: a pull/merge request or an issue, by its number (GitLab: iid)."""

    kind: ThreadKind
    number: int


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    url: str
    head: str
    open: bool
    title: str = ""
    body: str = ""


@dataclass(frozen=True, slots=True)
class Issue:
    number: int
    url: str
    open: bool
    title: str = ""
    body: str = ""


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    url: str
    body: str = ""


class Forge(Protocol):
    """Pull requests, issues, comments, reactions, permissions: what the forge front door uses."""

    repo: str

    def find_pull(self, head: str) -> PullRequest | None:
        """The open pull request from branch ``head``, if any."""
        ...

    def open_pull(self, head: str, base: str, title: str, body: str) -> PullRequest: ...

    def update_pull(
        self, number: int, *, title: str | None = None, body: str | None = None, close: bool = False
    ) -> PullRequest: ...

    def find_issue(self, label: str, marker: str) -> Issue | None:
        """The issue (open or closed) carrying ``label`` whose body contains ``marker``."""
        ...

    def open_issue(self, title: str, body: str, label: str) -> Issue: ...

    def update_issue(
        self, number: int, *, title: str | None = None, body: str | None = None, open: bool | None = None
    ) -> Issue: ...

    def comment(self, thread: Thread, body: str) -> Comment: ...

    def update_comment(self, thread: Thread, comment_id: int, body: str) -> Comment: ...

    def react(self, thread: Thread, comment_id: int, reaction: Reaction) -> None: ...

    def permission(self, user: str) -> Permission: ...
