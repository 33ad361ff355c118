"""Adopt fixes are never applied silently: they become a git branch + commit, or a patch file (I/O: git).

The branch is built with git plumbing in a private index, so the user's working tree, index and
checked-out branch are never touched. When the workspace is not in a repository, or the files in
``HEAD`` differ from what the fix was drafted against (uncommitted work), a patch file is written
instead and the reason is given.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from driftctl.models import FileEdit

BRANCH_PREFIX = "driftctl/adopt-"


@dataclass(frozen=True, slots=True)
class Published:
    branch: str | None = None
    commit: str | None = None
    patch_path: Path | None = None
    note: str = ""


def _git(
    args: Sequence[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    data: bytes | None = None,
    strip: bool = True,
) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=data,
        capture_output=True,
        env=env,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.decode(errors="replace").strip() or f"git {args[0]} failed")
    text = result.stdout.decode()
    return text.strip() if strip else text


def repository_of(directory: Path) -> Path | None:
    try:
        return Path(_git(("rev-parse", "--show-toplevel"), directory))
    except (RuntimeError, OSError, subprocess.TimeoutExpired):
        return None


def _identity(env: dict[str, str], repo: Path) -> dict[str, str]:
    """Commit as the configured user; as `driftctl` when git has no identity configured."""
    try:
        _git(("config", "user.email"), repo)
    except RuntimeError:
        env.setdefault("GIT_AUTHOR_NAME", "driftctl")
        env.setdefault("GIT_AUTHOR_EMAIL", "driftctl@localhost")
        env.setdefault("GIT_COMMITTER_NAME", "driftctl")
        env.setdefault("GIT_COMMITTER_EMAIL", "driftctl@localhost")
    return env


def commit_branch(repo: Path, edit_root: Path, edits: Sequence[FileEdit], branch: str, message: str) -> str:
    """A commit on ``branch`` = ``HEAD`` + the edits; returns its id. Raises RuntimeError to fall back."""
    with tempfile.TemporaryDirectory(prefix="driftctl-git-") as tmp:
        env = _identity({**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}, repo)
        _git(("read-tree", "HEAD"), repo, env=env)
        for edit in edits:
            rel = (edit_root / edit.path).resolve().relative_to(repo.resolve()).as_posix()
            try:
                head_text = _git(("show", f"HEAD:{rel}"), repo, strip=False)
            except RuntimeError:
                raise RuntimeError(f"{rel} is not committed") from None
            if head_text != edit.before:
                raise RuntimeError(f"{rel} has uncommitted changes")
            listed = _git(("ls-files", "-s", "--", rel), repo, env=env).split()
            mode = listed[0] if listed else "100644"
            blob = _git(("hash-object", "-w", "--stdin"), repo, data=edit.after.encode())
            _git(("update-index", "--cacheinfo", f"{mode},{blob},{rel}"), repo, env=env)
        tree = _git(("write-tree",), repo, env=env)
        commit = _git(("commit-tree", tree, "-p", "HEAD", "-F", "-"), repo, env=env, data=message.encode())
        _git(("update-ref", f"refs/heads/{branch}", commit), repo)
        return commit


def publish_adopt(
    workspace: Path,
    edit_root: Path,
    edits: Sequence[FileEdit],
    proposal_id: str,
    message: str,
    patches_dir: Path,
) -> Published:
    """A branch in the workspace's repository when possible, else a patch file under ``patches_dir``."""
    why = "the workspace is not in a git repository"
    repo = repository_of(workspace)
    if repo is not None:
        branch = BRANCH_PREFIX + proposal_id
        try:
            commit = commit_branch(repo, edit_root, edits, branch, message)
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
            why = f"no branch: {exc}"
        else:
            return Published(branch=branch, commit=commit, note=f"branch {branch} ({commit[:12]}) in {repo}")
    patches_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    patch = patches_dir / f"{proposal_id}.patch"
    header = "".join(f"# {line}\n" if line else "#\n" for line in message.splitlines())
    patch.write_text(
        header
        + f"# apply with: git apply -p1 --directory=. (from {edit_root})\n"
        + "".join(e.diff() for e in edits)
    )
    return Published(patch_path=patch, note=f"patch {patch} ({why})")
