"""The adopt journal: a code edit that a crash interrupted is found and rolled back (I/O: files, git).

Applying an adopt proposal writes its diff into the working tree, then plans and applies. A SIGKILL in
between used to leave the edit in the tree and the proposal ``approved``, with nothing saying so.
Now ``begin`` writes a journal file (``.driftctl/journal/adopt-<proposal>.json``: the proposal, the
repository root, the diff, the pid) *before* the edit, and ``end`` removes it after the edit was
confirmed or rolled back. ``recover`` runs at the next start of a reconcile or apply on that
workspace: for each journal whose process is gone it rolls the edit back if it is in the tree
(``git apply -R``), says the edit was never written if it is not, or asks for a human when the tree
matches neither; the proposal stays approved, so ``driftctl apply`` can be run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.scratch import private_dir, sweep

if TYPE_CHECKING:
    from driftctl.reconcile.pipeline import Runtime

JOURNAL_DIR = "journal"
SCRATCH_DIR = "tmp"  # .driftctl/tmp: every scratch directory of reconcile and apply


@dataclass(frozen=True, slots=True)
class Recovered:
    """What ``recover`` did about one interrupted adopt: rolled_back | not_written | needs_human."""

    proposal: str
    address: str
    outcome: str
    message: str


def _path(data_dir: Path, proposal: str) -> Path:
    return data_dir / JOURNAL_DIR / f"adopt-{proposal}.json"


def begin(data_dir: Path, *, proposal: str, workspace: str, address: str, root: Path, diff: str) -> Path:
    """Record the edit about to be written (fsynced, so it survives the kill that follows)."""
    private_dir(data_dir / JOURNAL_DIR)
    path = _path(data_dir, proposal)
    doc = {
        "proposal": proposal,
        "workspace": workspace,
        "address": address,
        "root": str(root),
        "diff": diff,
        "diff_sha256": hashlib.sha256(diff.encode("utf-8")).hexdigest(),
        "pid": os.getpid(),
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(doc, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return path


def end(data_dir: Path, proposal: str) -> None:
    """The edit was confirmed or rolled back: forget it."""
    _path(data_dir, proposal).unlink(missing_ok=True)


def _git_apply(root: Path, diff: str, *args: str) -> bool:
    """``git apply -p1 ARGS`` of ``diff`` in ``root``; whether it succeeded (no git counts as no)."""
    try:
        done = subprocess.run(
            ["git", "apply", "-p1", *args, "-"],
            cwd=root,
            input=diff.encode(),
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(data_dir: Path, workspace: str) -> list[Recovered]:
    """Resolve every journal of ``workspace`` whose process is gone (see the module docstring)."""
    folder = data_dir / JOURNAL_DIR
    if not folder.is_dir():
        return []
    done = []
    for path in sorted(folder.glob("adopt-*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            pid, proposal, diff, root = (
                int(doc["pid"]),
                str(doc["proposal"]),
                str(doc["diff"]),
                Path(doc["root"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours to judge; left for a human
        if doc.get("workspace") != workspace or (pid != os.getpid() and _alive(pid)):
            continue
        address = str(doc.get("address", ""))
        if _git_apply(root, diff, "--check", "-R") and _git_apply(root, diff, "-R"):
            outcome = "rolled_back"
            message = (
                f"rolled back the adopt edit of proposal {proposal} ({address}) in {root}: its apply was "
                f"interrupted (process {pid} is gone); `driftctl apply {proposal}` to try again"
            )
        elif _git_apply(root, diff, "--check"):
            outcome = "not_written"
            message = (
                f"the adopt apply of proposal {proposal} ({address}) was interrupted before its edit was "
                f"written (process {pid} is gone); nothing to roll back"
            )
        else:
            outcome = "needs_human"
            message = (
                f"the adopt apply of proposal {proposal} ({address}) was interrupted and {root} matches "
                f"neither the code before nor after its edit: check it by hand (journal {path})"
            )
            done.append(Recovered(proposal, address, outcome, message))
            continue  # the journal stays as evidence
        path.unlink(missing_ok=True)
        done.append(Recovered(proposal, address, outcome, message))
    return done


def recover_workspace(rt: Runtime, workspace: str) -> tuple[str, ...]:
    """At the start of a reconcile or apply: sweep dead runs' scratch directories, resolve interrupted
    adopt edits of ``workspace``; each is said (progress), audited and returned as a note."""
    notes = [*sweep(rt.data_dir / SCRATCH_DIR), *sweep()]  # ours, and a killed run's checkov home in /tmp
    for note in notes:
        rt.progress(f"{workspace}: {note}")
    for found in recover(rt.data_dir, workspace):
        rt.progress(f"{workspace}: {found.message}")
        rt.audit(
            "action" if found.outcome != "needs_human" else "alert",
            found.outcome,
            {"action": "write-code", "proposal": found.proposal, "message": found.message},
            workspace=workspace,
            subject=found.address,
        )
        notes.append(found.message)
    return tuple(notes)
