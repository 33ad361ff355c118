"""The webhook receiver over real HTTP: signatures, replays, size limit, ignored events, refusals, locks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.applications import Starlette
from starlette.routing import Mount

from driftctl import core
from driftctl.audit.store import Store
from driftctl.forge.door import FrontDoor, make_forge
from driftctl.forge.guards import RepoLocks
from driftctl.forge.webhook import webhook_routes
from tests.unit.forge.conftest import TOKEN
from tests.unit.forge.fake_forge import (
    ForgeState,
    encode,
    github_app,
    github_comment_payload,
    github_signature,
    gitlab_app,
    gitlab_note_payload,
)
from tests.unit.forge.loopback import serve

SECRET = "whsec-7c1d"


@dataclass
class Hook:
    kind: str
    state: ForgeState
    door: FrontDoor
    url: str
    client: httpx.Client

    def send(
        self, body: bytes, *, event: str | None = None, delivery: str | None = None, sign: str | None = None
    ) -> httpx.Response:
        delivery = delivery or str(uuid.uuid4())
        if self.kind == "github":
            headers = {
                "X-GitHub-Event": event or "issue_comment",
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": sign if sign is not None else github_signature(SECRET, body),
            }
        else:
            headers = {
                "X-Gitlab-Event": event or "Note Hook",
                "Idempotency-Key": delivery,
                "X-Gitlab-Token": sign if sign is not None else SECRET,
            }
        return self.client.post(f"/webhooks/{self.kind}", content=body, headers=headers)

    def comment(self, user: str, text: str, *, number: int = 1, **kw: Any) -> httpx.Response:
        if self.kind == "github":
            payload = github_comment_payload(self.state, number, user, text, comment_id=number * 100 + 7)
        else:
            payload = gitlab_note_payload(self.state, "issue", number, user, text, note_id=number * 100 + 7)
        return self.send(encode(payload), **kw)


def write_config(tmp: Path, forge: dict[str, Any]) -> Path:
    ws = tmp / "stack"
    ws.mkdir()
    (ws / "main.tf").write_text("# empty\n")
    path = tmp / "driftctl.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "workspaces": [{"name": "prod", "path": "stack"}], "forge": forge})
    )
    return path


@pytest.fixture(params=["github", "gitlab"])
def hook(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    kind = request.param
    monkeypatch.setenv("T_FORGE_TOKEN", TOKEN)
    monkeypatch.setenv("T_WEBHOOK_SECRET", SECRET)
    state = ForgeState(token=TOKEN, repo="acme/infra")
    state.permissions.update({"alice": "write" if kind == "github" else "30"})
    with serve(github_app(state) if kind == "github" else gitlab_app(state)) as api:
        config = write_config(
            tmp_path,
            {
                "kind": kind,
                "api_url": api,
                "repo": "acme/infra",
                "token_env": "T_FORGE_TOKEN",
                "webhook_secret_env": "T_WEBHOOK_SECRET",
                "bot_name": "drift-bot",
                "allow_users": ["carol"],
                "max_body_bytes": 64 * 1024,
            },
        )
        from driftctl.config import load_config

        settings = load_config(config).forge
        assert settings is not None
        rt = core.build_runtime(config, database_url=f"sqlite:///{tmp_path / 'd.db'}")
        door = FrontDoor(settings, make_forge(settings), rt)
        # the thread the comments land on
        if kind == "github":
            state.issues[1] = {"number": 1, "state": "open", "title": "t", "body": "", "labels": []}
        else:
            state.issues[1] = {"iid": 1, "state": "opened", "title": "t", "description": "", "labels": []}
        app = Starlette(routes=[Mount("/webhooks", routes=webhook_routes(door))])
        with serve(app) as url, httpx.Client(base_url=url, timeout=60) as client:
            yield Hook(kind, state, door, url, client)


def replies(hook: Hook) -> list[str]:
    return [c["body"] for c in hook.state.thread_comments("issue", 1)]


def test_missing_or_bad_signature_is_401_and_nothing_runs(hook: Hook) -> None:
    body = (
        encode(github_comment_payload(hook.state, 1, "alice", "driftctl help", 5))
        if hook.kind == "github"
        else encode(gitlab_note_payload(hook.state, "issue", 1, "alice", "driftctl help", 5))
    )
    for sign in ("", "sha256=" + "0" * 64, "wrong-secret", github_signature("wrong", body)):
        assert hook.send(body, sign=sign).status_code == 401
    tampered = body.replace(b"driftctl help", b"driftctl plan")
    if hook.kind == "github":  # signed over the original body, sent with another
        assert hook.send(tampered, sign=github_signature(SECRET, body)).status_code == 401
    assert hook.send(body).status_code == 202  # the same body, signed: accepted
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) == 1)
    assert "driftctl comment commands" in replies(hook)[0]


def test_replayed_delivery_is_ignored(hook: Hook) -> None:
    first = hook.comment("alice", "driftctl help", delivery="d-1")
    assert first.status_code == 202
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) == 1)
    again = hook.comment("alice", "driftctl help", delivery="d-1")
    assert again.status_code == 200 and again.json() == {"ignored": "delivery already seen"}
    fresh = hook.comment("alice", "driftctl help", delivery="d-2")
    assert fresh.status_code == 202
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) == 2)


def test_body_size_limit(hook: Hook) -> None:
    big = json.dumps({"pad": "x" * (70 * 1024)}).encode()
    assert hook.send(big).status_code == 413


def test_irrelevant_events_are_ignored_with_2xx(hook: Hook) -> None:
    other_event = "push" if hook.kind == "github" else "Push Hook"
    assert hook.send(b'{"ref": "refs/heads/main"}', event=other_event).status_code == 202
    assert hook.comment("alice", "LGTM, thanks").json() == {"ignored": "not a driftctl command"}
    assert hook.comment("drift-bot", "driftctl help").json() == {"ignored": "our own comment"}
    assert hook.send(b"not json").status_code == 400
    assert replies(hook) == []
    if hook.kind == "github":
        assert hook.send(b'{"zen": "hi"}', event="ping").json() == {"ok": "pong"}
    wrong = "gitlab" if hook.kind == "github" else "github"
    assert hook.client.post(f"/webhooks/{wrong}", content=b"{}").status_code == 404


def test_a_stranger_is_refused_politely(hook: Hook) -> None:
    assert hook.comment("mallory", "driftctl apply 0a1b2c3d4e5f").status_code == 202
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) == 1)
    (reply,) = replies(hook)
    assert reply.startswith("Sorry mallory, only allow-listed users and users with write access")
    assert "Nothing was run" in reply


def test_unknown_command_gets_did_you_mean(hook: Hook) -> None:
    hook.comment("alice", "@drift-bot aply")
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) == 1)
    assert "Did you mean `driftctl apply`?" in replies(hook)[0]


def test_an_unreachable_lock_store_fails_closed(hook: Hook, tmp_path: Path) -> None:
    broken = tmp_path / "locks.db"
    store = Store(f"sqlite:///{broken}")
    store.close()
    broken.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{broken}{suffix}").unlink(missing_ok=True)
    hook.door.locks = RepoLocks(store)
    response = hook.comment("carol", "driftctl unlock -w prod")  # unlock takes no lock: still refused
    response = hook.comment("carol", "driftctl plan -w prod", delivery="plan-1")
    assert response.status_code == 503 and "lock store cannot be reached" in response.json()["error"]
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) >= 1)  # the unlock's reply
    assert all("Ran Plan" not in r for r in replies(hook))


def test_a_held_lock_is_named(hook: Hook) -> None:
    assert hook.door.locks.acquire("acme/infra", "prod", "bob via https://forge.example/x")
    hook.comment("carol", "driftctl plan -w prod")
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) == 1)
    assert "is busy with bob via https://forge.example/x" in replies(hook)[0]
    hook.comment("carol", "driftctl unlock -w prod", delivery="u-1")
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) == 2)
    assert "released the lock held by bob" in replies(hook)[1]
    assert hook.door.locks.holder("acme/infra", "prod") is None


def test_an_edited_comment_or_a_note_on_a_commit_runs_nothing(hook: Hook) -> None:
    """Editing an old comment into a command must not run it; GitLab notes on commits are not threads."""
    if hook.kind == "github":
        payload = github_comment_payload(hook.state, 1, "alice", "driftctl plan -w prod", 9)
        payload["action"] = "edited"
    else:
        payload = gitlab_note_payload(hook.state, "issue", 1, "alice", "driftctl plan -w prod", 9)
        payload["object_attributes"]["noteable_type"] = "Commit"
    response = hook.send(encode(payload))
    assert response.status_code == 202 and "is not a new comment" in response.json()["ignored"]
    assert replies(hook) == []


def test_another_repository_is_ignored(hook: Hook) -> None:
    other = ForgeState(token=TOKEN, repo="evil/fork")
    if hook.kind == "github":
        payload = github_comment_payload(other, 1, "alice", "driftctl help", 9)
    else:
        payload = gitlab_note_payload(other, "issue", 1, "alice", "driftctl help", 9)
    assert hook.send(encode(payload)).json() == {"ignored": "another repository"}


def test_without_an_id_on_a_thread_driftctl_did_not_open_nothing_is_guessed(hook: Hook) -> None:
    hook.comment("carol", "driftctl approve")
    hook.state.wait_for(lambda s: len(s.thread_comments("issue", 1)) == 1)
    assert "say which proposal: driftctl approve ID" in replies(hook)[0]
