"""The forge front door: adopt pull requests, a drift issue per workspace, and comment commands.

GitHub (REST v3) and GitLab (REST v4) behind one small `Forge` protocol; a webhook receiver whose
routes `driftctl serve` mounts under ``/webhooks/``; `FrontDoor.sync_workspace` for the service to
call after each reconcile. Importing this package loads nothing heavy: the modules import their
dependencies where they are used. Wiring, in a service::

    from driftctl.forge.door import door_from_config
    from driftctl.forge.webhook import webhook_routes

    door = door_from_config(config_path, runtime)  # None when driftctl.yaml has no `forge:`
    routes = webhook_routes(door) if door else []  # mounted under /webhooks/
    ...
    result = core.reconcile_workspace(target, runtime, options)
    if door:
        door.sync_workspace(result)  # adopt pull requests, the drift issue
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
