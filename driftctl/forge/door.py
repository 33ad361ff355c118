"""The forge front door: comment commands run against the public core, replies posted (I/O: all of it).

`FrontDoor.accept` is called by the webhook for an authenticated, new, addressed comment. It takes
the (repository, workspace) lock — a lock store that cannot be reached raises `GuardUnavailable`, so
nothing runs — and returns a `Job` the webhook runs after answering. The job acknowledges the comment
(👀), checks the commenter may act (allow-listed in config, or write access on the forge: approve,
apply, reject, plan, unlock), calls the core, and replies in the Atlantis shape. A comment-triggered
apply goes through the core's approvals path with ``by`` and ``source`` (the comment URL), so the
audit trail records who asked and where.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from driftctl.errors import ConfigError, DriftctlError
from driftctl.forge.commands import HELP, PRIVILEGED, Command, Refusal, Verb
from driftctl.forge.guards import DeliveryLog, GuardUnavailable, RepoLocks
from driftctl.forge.protocol import Comment, Forge, ForgeError, Permission, Thread
from driftctl.forge.templates import (
    ProposalView,
    Section,
    apply_reply,
    approve_reply,
    command_reply,
    refusal,
    reject_reply,
)
from driftctl.forge.text import code, inert, split_comment

if TYPE_CHECKING:
    from driftctl.core import ReconcileOptions, Runtime, WorkspaceResult
    from driftctl.forge.publish import SyncReport
    from driftctl.forge.settings import ForgeSettings
    from driftctl.forge.webhook import CommentEvent

log = logging.getLogger("driftctl.forge")
MARKER = re.compile(
    r"<!-- driftctl:(adopt|drift) workspace=([A-Za-z0-9_.-]+) key=([0-9a-f]{16}|workspace) -->"
)


@dataclass(frozen=True, slots=True)
class Job:
    describe: str
    run: Callable[[], None]


def make_forge(settings: ForgeSettings, *, transport: httpx.BaseTransport | None = None) -> Forge:
    """The configured forge's client, its token read from ``$token_env``."""
    from driftctl.forge.github import GitHubForge
    from driftctl.forge.gitlab import GitLabForge

    cls = GitHubForge if settings.kind == "github" else GitLabForge
    return cls(
        settings.repo,
        settings.token(),
        api_url=settings.base_url,
        timeout_s=settings.timeout_s,
        transport=transport,
    )


class FrontDoor:
    def __init__(
        self,
        settings: ForgeSettings,
        forge: Forge,
        runtime: Runtime,
        *,
        options: ReconcileOptions | None = None,
        deliveries: DeliveryLog | None = None,
        locks: RepoLocks | None = None,
    ) -> None:
        from driftctl.core import ReconcileOptions

        self.settings = settings
        self.forge = forge
        self.runtime = runtime
        self.options = options or ReconcileOptions(mode="propose", trigger="comment")
        self.webhook_secret = settings.webhook_secret()
        self.deliveries = deliveries or DeliveryLog(runtime.store.url)
        self.locks = locks or RepoLocks(runtime.store)
        self._serial = threading.Lock()  # one command at a time in this process; the lock row spans hosts

    # -- after each reconcile ------------------------------------------------------------------------

    def sync_workspace(self, result: WorkspaceResult) -> SyncReport:
        """Pull requests and the drift issue brought in line with one reconcile's result."""
        from driftctl.forge.publish import sync_workspace

        return sync_workspace(self, result)

    # -- comment commands ----------------------------------------------------------------------------

    def accept(self, event: CommentEvent, command: Command | Refusal) -> Job:
        if isinstance(command, Refusal):
            return Job("refusal", lambda: self._post_quietly(event, refusal(event.user, command.message)))
        if command.verb is Verb.HELP:
            return Job(
                "help", lambda: self._post_quietly(event, HELP.replace("@BOT", f"@{self.settings.bot_name}"))
            )
        if command.verb in PRIVILEGED and not self._may(event.user):
            text = refusal(
                event.user,
                f"only allow-listed users and users with write access to {code(self.settings.repo)} "
                f"may run {code(f'driftctl {command.verb}')}. Nothing was run.",
            )
            return Job("refusal", lambda: self._post_quietly(event, text))
        try:
            workspace, proposal_id = self._resolve(event, command)
        except DriftctlError as exc:  # an unknown proposal or workspace, or a missing ID: say so
            message = exc.message
            return Job("refusal", lambda: self._post_quietly(event, refusal(event.user, inert(message, 500))))
        holder = f"{event.user} via {event.comment_url or event.delivery}"[:250]
        if command.verb is not Verb.UNLOCK and not self.locks.acquire(self.settings.repo, workspace, holder):
            who = self.locks.holder(self.settings.repo, workspace) or "another command"
            text = (
                f"workspace {code(workspace)} is busy with {inert(who)}; try again when it is done, "
                f"or comment {code(f'driftctl unlock -w {workspace}')}."
            )
            return Job("locked", lambda: self._post_quietly(event, text))

        def run() -> None:
            self._run(event, command, workspace, proposal_id, holder)

        return Job(f"{command.verb} {workspace}", run)

    def _run(
        self, event: CommentEvent, command: Command, workspace: str, pid: str | None, holder: str
    ) -> None:
        running: Comment | None = None
        try:
            with self._serial:
                self._ack(event)
                if command.verb in (Verb.PLAN, Verb.APPLY):  # Terraform runs: say so now, fill in later
                    running = self.forge.comment(
                        event.thread, f"⏳ Running `driftctl {command.verb}` on workspace {code(workspace)}…"
                    )
                self._finish(event, running, self._execute(event, command, workspace, pid))
        except GuardUnavailable as exc:
            self._finish(event, running, f"❌ {inert(exc.message)}; nothing was run.")
        except DriftctlError as exc:
            self._finish(event, running, f"❌ `driftctl {command.verb}` failed: {inert(exc.message, 1000)}")
        except Exception:  # a bug: say so on the thread, keep the details in the server log
            log.exception("comment command %s failed", command.verb)
            self._finish(
                event, running, f"❌ `driftctl {command.verb}` hit an internal error; see the server log."
            )
        finally:
            if command.verb is not Verb.UNLOCK:
                self.locks.release(self.settings.repo, workspace, holder)

    def _finish(self, event: CommentEvent, running: Comment | None, body: str) -> None:
        """The reply: in place of the "running" comment when there is one, the rest after it."""
        try:
            if running is None:
                self.post(event.thread, body)
                return
            first, *rest = split_comment(body, self.settings.comment_limit)
            self.forge.update_comment(event.thread, running.id, first)
            for part in rest:
                self.forge.comment(event.thread, part)
        except ForgeError as exc:
            log.warning("could not reply on %s %s: %s", event.thread.kind, event.thread.number, exc.message)

    def _execute(self, event: CommentEvent, command: Command, workspace: str, pid: str | None) -> str:
        from driftctl import core

        rt, by, source = self.runtime, event.user, event.comment_url or None
        if command.verb is Verb.UNLOCK:
            held = self.locks.force_release(self.settings.repo, workspace)
            what = f"released the lock held by {inert(held)}" if held else "no lock was held"
            footer = "1 lock released" if held else "nothing to release"
            return command_reply("Unlock", workspace, [Section(code(workspace), what, True)], footer)
        if command.verb is Verb.PLAN:
            return self._plan(workspace, by)
        assert pid is not None
        if command.verb is Verb.APPROVE:
            core.approve_proposal(rt, pid, by, source=source)
            return approve_reply(ProposalView.from_row(rt.store.proposal(pid)), by)
        if command.verb is Verb.REJECT:
            core.reject_proposal(rt, pid, by, command.reason or "", source=source)
            return reject_reply(ProposalView.from_row(rt.store.proposal(pid)), by)
        if rt.store.proposal(pid).status == "pending":  # an allowed user asking to apply approves it too
            core.approve_proposal(rt, pid, by, source=source)
        result = core.apply_proposal(rt, pid, self._options(by), by=by, source=source)
        return apply_reply(ProposalView.from_row(rt.store.proposal(pid)), result.status, result.message)

    def _plan(self, workspace: str, by: str) -> str:
        from driftctl import core

        (target,) = core.resolve_workspaces((workspace,), self.runtime)
        # A comment's plan never applies on its own, whatever the service's mode: it proposes.
        result = core.reconcile_workspace(target, self.runtime, self._options(by, mode="propose"))
        report = self.sync_workspace(result)
        sections = [_item_section(item) for item in result.items]
        footer = f"{len(result.items)} drifted resource(s); workspace {inert(result.status)}"
        if result.error:
            footer += f": {inert(result.error, 500)}"
        return command_reply("Plan", workspace, sections, footer + report.summary())

    def _options(self, by: str, **changes: Any) -> ReconcileOptions:
        import msgspec

        return msgspec.structs.replace(self.options, trigger="comment", requested_by=by, **changes)

    def _resolve(self, event: CommentEvent, command: Command) -> tuple[str, str | None]:
        """The workspace and the proposal a command is about; ConfigError says what is missing."""
        from driftctl import core

        rt = self.runtime
        marked = MARKER.search(event.thread_body)
        workspace = command.workspace or (marked.group(2) if marked else None)
        pid = command.proposal_id
        if pid is not None:
            row = rt.store.proposal(pid)
            if workspace is not None and workspace != row.workspace:
                raise ConfigError(f"proposal {row.id} belongs to workspace {row.workspace}, not {workspace}")
            return row.workspace, row.id
        if workspace is None:
            names = [t.name for t in core.resolve_workspaces((), rt)]
            if len(names) != 1:
                raise ConfigError(f"say which workspace: add -w NAME (one of {', '.join(names)})")
            workspace = names[0]
        core.resolve_workspaces((workspace,), rt)  # unknown → ConfigError naming the known ones
        if command.verb not in (Verb.APPROVE, Verb.APPLY, Verb.REJECT):
            return workspace, None
        rows = core.list_proposals(rt, workspace=workspace, open_only=True)
        if marked is None:  # a thread driftctl did not open: never guess which proposal is meant
            listed = ", ".join(r.id for r in rows[:10]) or "none is waiting"
            raise ConfigError(f"say which proposal: driftctl {command.verb} ID ({listed})")
        if marked.group(1) == "adopt":
            rows = [r for r in rows if _key(r.address) == marked.group(3)]
        wanted = ("approved", "pending") if command.verb is Verb.APPLY else ("pending", "approved")
        rows = [r for r in rows if r.status in wanted]
        if len(rows) != 1:
            listed = ", ".join(r.id for r in rows[:10]) or "none is waiting"
            raise ConfigError(f"say which proposal: driftctl {command.verb} ID ({listed})")
        return workspace, rows[0].id

    def _may(self, user: str) -> bool:
        if self.settings.allowed(user):
            return True
        try:
            return self.forge.permission(user) >= Permission.WRITE
        except ForgeError:
            return False  # cannot tell: refuse

    def _ack(self, event: CommentEvent) -> None:
        try:
            self.forge.react(event.thread, event.comment_id, "eyes")
        except ForgeError as exc:
            log.warning("could not react to comment %s: %s", event.comment_id, exc.message)

    def post(self, thread: Thread, body: str) -> None:
        """``body`` on ``thread``, split into as many comments as the forge's size limit needs."""
        for part in split_comment(body, self.settings.comment_limit):
            self.forge.comment(thread, part)

    def _post_quietly(self, event: CommentEvent, body: str) -> None:
        self._finish(event, None, body)


def _key(address: str) -> str:
    import hashlib

    return hashlib.sha256(address.encode()).hexdigest()[:16]


def _item_section(item: Any) -> Section:
    ok = str(item.outcome) in ("healed", "proposed", "awaiting_apply", "would_apply")
    pid = item.proposal_id
    nexts: Sequence[str] = (
        (f"driftctl approve {pid}", f"driftctl apply {pid}", f'driftctl reject {pid} --reason "…"')
        if pid
        else ()
    )
    return Section(
        code(item.address),
        f"{inert(item.outcome)}"
        + (f": {inert(item.strategy)}" if item.strategy else "")
        + (f", proposal {code(pid)}" if pid else ""),
        ok,
        output=item.rationale,
        next_commands=tuple(nexts) if str(item.outcome) in ("proposed", "awaiting_apply") else (),
    )


def door_from_config(config_path: Path | None, runtime: Runtime, **kwargs: Any) -> FrontDoor | None:
    """The front door for the `forge:` section of the config; None when there is none."""
    from driftctl.config import find_config, load_config

    path = config_path or find_config()
    settings = load_config(path).forge if path is not None else None
    if settings is None:
        return None
    return FrontDoor(settings, make_forge(settings), runtime, **kwargs)
