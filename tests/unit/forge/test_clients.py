"""One contract, run against GitHubForge and GitLabForge talking to a loopback server that speaks each API."""

from __future__ import annotations

import logging

import pytest

from driftctl.forge.gitlab import GitLabForge
from driftctl.forge.protocol import ForgeError, Permission, Thread
from tests.unit.forge.conftest import TOKEN, Peer


def test_pull_request_open_find_update_close(peer: Peer) -> None:
    f = peer.forge
    assert f.find_pull("driftctl/adopt/x") is None
    pull = f.open_pull("driftctl/adopt/x", "main", "title", "body <!-- m -->")
    assert pull.open and pull.head == "driftctl/adopt/x" and pull.url.startswith("https://")
    found = f.find_pull("driftctl/adopt/x")
    assert found is not None and found.number == pull.number and found.body == "body <!-- m -->"
    assert f.find_pull("driftctl/adopt/other") is None
    updated = f.update_pull(pull.number, title="new title", body="new body")
    assert (updated.title, updated.body, updated.open) == ("new title", "new body", True)
    closed = f.update_pull(pull.number, close=True)
    assert not closed.open
    assert f.find_pull("driftctl/adopt/x") is None  # only open ones are found


def test_issue_open_find_close_reopen(peer: Peer) -> None:
    f = peer.forge
    assert f.find_issue("driftctl-drift", "<!-- ws=a -->") is None
    issue = f.open_issue("drift in a", "table <!-- ws=a -->", "driftctl-drift")
    f.open_issue("drift in b", "table <!-- ws=b -->", "driftctl-drift")
    found = f.find_issue("driftctl-drift", "<!-- ws=a -->")
    assert found is not None and found.number == issue.number and found.open
    assert not f.update_issue(issue.number, open=False).open
    again = f.find_issue("driftctl-drift", "<!-- ws=a -->")  # closed issues are found too
    assert again is not None and not again.open
    assert f.update_issue(issue.number, body="new <!-- ws=a -->", open=True).open


def test_comments_and_reactions(peer: Peer) -> None:
    f = peer.forge
    pull = f.open_pull("b", "main", "t", "")
    issue = f.open_issue("t", "", "driftctl-drift")
    on_pull = f.comment(Thread("pull", pull.number), "hello")
    on_issue = f.comment(Thread("issue", issue.number), "hi")
    assert [c["body"] for c in peer.state.thread_comments("pull", pull.number)] == ["hello"]
    assert [c["body"] for c in peer.state.thread_comments("issue", issue.number)] == ["hi"]
    f.update_comment(Thread("pull", pull.number), on_pull.id, "edited")
    assert peer.state.comments[on_pull.id]["body"] == "edited"
    f.react(Thread("issue", issue.number), on_issue.id, "eyes")
    f.react(Thread("issue", issue.number), on_issue.id, "+1")
    expected = ["eyes", "+1"] if peer.kind == "github" else ["eyes", "thumbsup"]
    assert peer.state.comments[on_issue.id]["reactions"] == expected


def test_permissions(peer: Peer) -> None:
    f = peer.forge
    assert f.permission("alice") is Permission.WRITE
    assert f.permission("root") is Permission.ADMIN
    assert f.permission("bob") is Permission.READ
    assert f.permission("mallory") is Permission.NONE  # not a collaborator/member at all


def test_errors_name_the_call_never_the_token(peer: Peer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    peer.state.fail_next.append(503)
    with pytest.raises(ForgeError) as err:
        peer.forge.open_pull("b", "main", "t", "")
    assert err.value.status == 503 and err.value.retryable
    assert "POST" in err.value.message and TOKEN not in err.value.message
    cls = type(peer.forge)
    bad = cls(peer.state.repo, "wrong-token", api_url=peer.url)  # type: ignore[call-arg]
    with pytest.raises(ForgeError) as err:
        bad.find_pull("b")
    assert err.value.status == 401 and not err.value.retryable
    assert TOKEN not in caplog.text and "wrong-token" not in caplog.text


def test_unreachable_forge_is_a_retryable_error() -> None:
    forge = GitLabForge("a/b", TOKEN, api_url="http://127.0.0.1:9", timeout_s=2)
    with pytest.raises(ForgeError) as err:
        forge.find_pull("x")
    assert err.value.retryable and err.value.status is None
