"""The public names of driftctl.forge are pinned: changing them is a decision, not an accident."""

from __future__ import annotations

import driftctl.forge as forge
from driftctl.forge.github import GitHubForge
from driftctl.forge.gitlab import GitLabForge
from driftctl.forge.protocol import Forge


def test_public_names() -> None:
    assert sorted(forge.__all__) == [
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


def test_both_clients_implement_the_whole_protocol() -> None:
    wanted = {n for n in dir(Forge) if not n.startswith("_")}
    for cls in (GitHubForge, GitLabForge):
        assert wanted <= set(dir(cls)) | {"repo"}, wanted - set(dir(cls))
