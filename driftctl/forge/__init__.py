"""The forge front door: adopt pull requests, a drift issue per workspace, and comment commands.

GitHub (REST v3) and GitLab (REST v4) behind one small `Forge` protocol; a webhook receiver whose
routes `driftctl serve` mounts under ``/webhooks/``; `FrontDoor.sync_workspace` for the service to
call after each reconcile. Importing this package loads nothing heavy: the modules import their
dependencies where they are used.
"""

from __future__ import annotations

from driftctl.forge.commands import Command, Refusal, Verb, parse_comment
from driftctl.forge.protocol import Comment, Forge, ForgeError, Issue, Permission, PullRequest, Thread
from driftctl.forge.settings import ForgeSettings

__all__ = [
    "Command",
    "Comment",
    "Forge",
    "ForgeError",
    "ForgeSettings",
    "Issue",
    "Permission",
    "PullRequest",
    "Refusal",
    "Thread",
    "Verb",
    "parse_comment",
]
