"""Loopback GitHub and GitLab servers, and a client for each (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from driftctl.forge.github import GitHubForge
from driftctl.forge.gitlab import GitLabForge
from driftctl.forge.protocol import Forge
from tests.unit.forge.fake_forge import ForgeState, github_app, gitlab_app
from tests.unit.forge.loopback import serve

TOKEN = "tok-3f9a-secret"


@dataclass
class Peer:
    kind: str
    state: ForgeState
    url: str
    forge: Forge


@pytest.fixture(params=["github", "gitlab"])
def peer(request: pytest.FixtureRequest) -> Iterator[Peer]:
    kind = request.param
    state = ForgeState(token=TOKEN, repo="acme/infra" if kind == "github" else "acme/platform/infra")
    if kind == "github":
        state.permissions.update({"alice": "write", "bob": "read", "root": "admin"})
    else:
        state.permissions.update({"alice": "30", "bob": "20", "root": "50"})
    app = github_app(state) if kind == "github" else gitlab_app(state)
    with serve(app) as url:
        cls = GitHubForge if kind == "github" else GitLabForge
        forge = cls(state.repo, TOKEN, api_url=url)
        yield Peer(kind, state, url, forge)
        forge.close()  # type: ignore[attr-defined]
