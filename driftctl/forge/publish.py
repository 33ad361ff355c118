"""Adopt fixes become pull requests; reverts waiting for a human, a tracked drift issue (I/O: git, HTTP).

After each reconcile of a workspace, `sync_workspace`:

* pushes every pending adopt proposal's commit (built by `driftctl.reconcile.publish` on
  ``driftctl/adopt-<id>``) to the workspace repository's remote, on one stable branch per drifted
  resource, and opens its pull request — or updates the one already open, found by that branch;
* closes, as superseded, the pull requests of resources whose adopt proposal is no longer open
  (the drift went away, was healed, or a human decided otherwise);
* keeps one drift issue per workspace, found by its hidden marker: opened when drift waits for a
  human, its table updated on every run, closed when nothing waits, reopened when drift returns.

A workspace that errored or was skipped changes nothing: an error is not evidence the drift is gone.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.errors import DriftctlError
from driftctl.forge.protocol import ForgeError, Thread
from driftctl.forge.templates import (
    DRIFT_LABEL,
    ProposalView,
    adopt_pull,
    branch_for,
    diff_block,
    drift_issue,
    marker,
)
from driftctl.forge.text import code, inert, split_comment
from driftctl.reconcile.publish import repository_of

if TYPE_CHECKING:
    from driftctl.audit.tables import ProposalRow
    from driftctl.core import WorkspaceResult
    from driftctl.forge.door import FrontDoor

log = logging.getLogger("driftctl.forge")


@dataclass
class SyncReport:
    opened: list[str] = field(default_factory=list)  # pull request URLs
    updated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    issue: str = "none"  # opened | updated | reopened | closed | none
    issue_url: str = ""
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{len(v)} pull request(s) {k}"
            for k, v in (("opened", self.opened), ("updated", self.updated), ("closed", self.closed))
            if v
        ]
        if self.issue != "none":
            parts.append(f"drift issue {self.issue}")
        return ("; " + ", ".join(parts)) if parts else ""


def push_branch(repo: Path, commit: str, remote: str, branch: str) -> None:
    """Force-push ``commit`` to ``remote`` as ``branch`` (the branch is ours: one per drifted resource)."""
    result = subprocess.run(
        ["git", "push", "--quiet", "--force", remote, f"{commit}:refs/heads/{branch}"],
        cwd=repo,
        capture_output=True,
        check=False,
        timeout=120,
        env=_git_env(),
    )
    if result.returncode != 0:
        # git's message may hold the remote URL with credentials in it: say only which step failed.
        raise DriftctlError(f"git push of {branch} to remote {remote!r} failed (exit {result.returncode})")


def _git_env() -> dict[str, str]:
    import os

    return {**os.environ, "GIT_TERMINAL_PROMPT": "0"}


def _commit_of(repo: Path, branch: str) -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--verify", f"refs/heads/{branch}^{{commit}}"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if result.returncode != 0:
        raise DriftctlError(f"branch {branch} is not in {repo}")
    return result.stdout.strip()


def _fit(body: str, limit: int) -> str:
    parts = split_comment(body, limit)
    if len(parts) == 1:
        return body
    return parts[0].replace(
        "*(continued in the next comment)*", "*(truncated: the full change is in the branch)*"
    )


def sync_workspace(door: FrontDoor, result: WorkspaceResult) -> SyncReport:
    from driftctl import core

    report = SyncReport()
    if str(result.status) in ("error", "skipped"):
        return report
    rt, ws = door.runtime, result.workspace
    rows = core.list_proposals(rt, workspace=ws)
    open_rows = [r for r in rows if r.status in ("pending", "approved", "needs_human", "blocked")]
    adopts = {r.address: r for r in reversed(open_rows) if r.strategy == "adopt" and r.branch}  # newest wins
    for row in adopts.values():
        try:
            _sync_pull(door, row, report)
        except (DriftctlError, OSError, subprocess.TimeoutExpired) as exc:
            report.problems.append(f"{row.address}: {exc}")
            log.warning("adopt pull request for %s: %s", row.address, exc)
    gone = {r.address for r in rows if r.strategy == "adopt"} - set(adopts)
    for address in sorted(gone):
        try:
            _close_pull(door, ws, address, report)
        except ForgeError as exc:
            report.problems.append(f"{address}: {exc.message}")
    waiting = [ProposalView.from_row(r) for r in open_rows if r.address not in adopts]
    try:
        _sync_issue(door, ws, waiting, report)
    except ForgeError as exc:
        report.problems.append(f"drift issue: {exc.message}")
    return report


def _sync_pull(door: FrontDoor, row: ProposalRow, report: SyncReport) -> None:
    from driftctl import core

    (target,) = core.resolve_workspaces((row.workspace,), door.runtime)
    repo = repository_of(target.path) if target.path is not None else None
    if repo is None or row.branch is None:
        raise DriftctlError(f"workspace {row.workspace} is not in a git repository")
    head = branch_for(row.workspace, row.address)
    push_branch(repo, _commit_of(repo, row.branch), door.settings.remote, head)
    view = ProposalView.from_row(row)
    title, body = adopt_pull(view)
    body = _fit(body, door.settings.comment_limit)
    existing = door.forge.find_pull(head)
    if existing is None:
        pull = door.forge.open_pull(head, door.settings.base_branch, title, body)
        report.opened.append(pull.url)
    else:
        pull = door.forge.update_pull(existing.number, title=title, body=body)
        if diff_block(view.diff) not in existing.body:  # the same change on every run stays quiet
            door.forge.comment(
                Thread("pull", pull.number),
                f"The change was updated by driftctl (proposal {code(row.id)}): reality moved again.",
            )
        report.updated.append(pull.url)


def _close_pull(door: FrontDoor, workspace: str, address: str, report: SyncReport) -> None:
    existing = door.forge.find_pull(branch_for(workspace, address))
    if existing is None or marker("adopt", workspace, address) not in existing.body:
        return
    door.forge.comment(
        Thread("pull", existing.number),
        f"Closed as superseded: {code(address)} no longer needs this change "
        "(the drift is gone, was healed, or the proposal was decided otherwise).",
    )
    door.forge.update_pull(existing.number, close=True)
    report.closed.append(existing.url)


def _sync_issue(door: FrontDoor, workspace: str, waiting: list[ProposalView], report: SyncReport) -> None:
    forge, tag = door.forge, marker("drift", workspace)
    issue = forge.find_issue(DRIFT_LABEL, tag)
    if not waiting:
        if issue is not None and issue.open:
            forge.comment(Thread("issue", issue.number), f"✅ {code(workspace)} is clean: closing.")
            forge.update_issue(issue.number, open=False)
            report.issue, report.issue_url = "closed", issue.url
        return
    title, body = drift_issue(workspace, waiting)
    body = _fit(body, door.settings.comment_limit)
    if issue is None:
        issue = forge.open_issue(title, body, DRIFT_LABEL)
        report.issue = "opened"
    else:
        new = [v for v in waiting if v.id not in issue.body]
        reopen = not issue.open
        issue = forge.update_issue(issue.number, title=title, body=body, open=True if reopen else None)
        report.issue = "reopened" if reopen else "updated"
        if reopen or new:
            what = ", ".join(f"{code(v.address)} ({inert(v.strategy)} {code(v.id)})" for v in new)
            forge.comment(
                Thread("issue", issue.number),
                ("Drift is back. " if reopen else "New drift. ") + (what or "See the table above."),
            )
    report.issue_url = issue.url
