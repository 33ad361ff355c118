"""publish_adopt against real temporary git repositories (I/O: git, files)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from driftctl.models import FileEdit
from driftctl.reconcile.publish import BRANCH_PREFIX, publish_adopt

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

BEFORE = 'resource "aws_sqs_queue" "jobs" {\n  visibility_timeout_seconds = 30\n}\n'
AFTER = 'resource "aws_sqs_queue" "jobs" {\n  visibility_timeout_seconds = 5\n}\n'


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(repo.parent),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "infra"
    (root / "envs/prod").mkdir(parents=True)
    (root / "envs/prod/main.tf").write_text(BEFORE)
    (root / "README.md").write_text("infra\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def edit() -> FileEdit:
    return FileEdit("prod/main.tf", BEFORE, AFTER)  # relative to the edit root envs/


def test_adopt_becomes_a_branch_and_leaves_the_checkout_alone(repo: Path, tmp_path: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    published = publish_adopt(
        repo / "envs/prod", repo / "envs", [edit()], "abc123", "driftctl: adopt\n\nwhy", tmp_path / "patches"
    )

    assert published.branch == BRANCH_PREFIX + "abc123"
    assert published.patch_path is None and not (tmp_path / "patches").exists()
    assert published.commit and published.commit[:12] in published.note
    # the branch holds the edit, on top of HEAD, with the message
    assert git(repo, "show", f"{published.branch}:envs/prod/main.tf") + "\n" == AFTER
    assert git(repo, "rev-parse", f"{published.branch}^") == head
    assert git(repo, "log", "-1", "--format=%s", published.branch) == "driftctl: adopt"
    changed = git(repo, "diff", "--name-only", head, published.branch)
    assert changed == "envs/prod/main.tf"
    # the user's checkout: same branch, same HEAD, clean tree and index, file untouched
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / "envs/prod/main.tf").read_text() == BEFORE


def test_uncommitted_changes_fall_back_to_a_patch_with_the_reason(repo: Path, tmp_path: Path) -> None:
    (repo / "envs/prod/main.tf").write_text(BEFORE + "# local work\n")
    local = FileEdit("prod/main.tf", BEFORE + "# local work\n", AFTER + "# local work\n")
    published = publish_adopt(repo / "envs/prod", repo / "envs", [local], "p1", "msg", tmp_path / "patches")

    assert published.branch is None
    assert published.patch_path == tmp_path / "patches/p1.patch"
    assert "prod/main.tf has uncommitted changes" in published.note
    assert "visibility_timeout_seconds = 5" in published.patch_path.read_text()
    assert git(repo, "branch", "--list", BRANCH_PREFIX + "*") == ""  # no half-made branch
    assert (repo / "envs/prod/main.tf").read_text() == BEFORE + "# local work\n"


def test_a_file_not_in_head_falls_back_to_a_patch(repo: Path, tmp_path: Path) -> None:
    new = FileEdit("prod/extra.tf", "", "locals {}\n")
    published = publish_adopt(repo / "envs/prod", repo / "envs", [new], "p2", "msg", tmp_path / "patches")
    assert published.branch is None and published.patch_path is not None
    assert "not committed" in published.note


def test_no_repository_gives_a_patch_that_git_apply_accepts(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "prod").mkdir(parents=True)
    (root / "prod/main.tf").write_text(BEFORE)
    published = publish_adopt(
        root / "prod", root, [edit()], "p3", "driftctl: adopt x\n\nline two", tmp_path / "patches"
    )

    assert published.branch is None and published.patch_path is not None
    assert "not in a git repository" in published.note
    text = published.patch_path.read_text()
    assert text.startswith("# driftctl: adopt x\n#\n# line two\n")
    assert "-  visibility_timeout_seconds = 30\n+  visibility_timeout_seconds = 5\n" in text
    subprocess.run(["git", "apply", "-p1", str(published.patch_path)], cwd=root, check=True)
    assert (root / "prod/main.tf").read_text() == AFTER
