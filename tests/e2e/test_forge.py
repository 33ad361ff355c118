"""The forge front door end to end: real Terraform on the sandbox, a real bare git remote, a loopback
GitHub speaking REST v3, and the webhook served by uvicorn on 127.0.0.1.

drift → adopt pull request (branch pushed, patch and rationale in it) and a drift issue; the next run
updates both instead of opening more; a comment `driftctl apply ID` by an allowed user applies,
confirms and replies, by a stranger is refused; a bad signature is 401, a replay is ignored; the drift
gone → the pull request is closed as superseded and the issue closed, drift back → reopened; a
100 KB output splits into comments that render; a sensitive canary never reaches the forge.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from markdown_it import MarkdownIt
from starlette.applications import Starlette
from starlette.routing import Mount

from driftctl import core
from driftctl.audit.store import Store
from driftctl.forge.door import FrontDoor, make_forge
from driftctl.forge.protocol import Thread
from driftctl.forge.settings import ForgeSettings
from driftctl.forge.templates import Section, branch_for, command_reply
from driftctl.forge.webhook import webhook_routes
from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.sandbox import Sandbox
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
from tests.unit.forge.test_text import balanced

pytestmark = pytest.mark.slow

SG = "module.app.module.network.aws_security_group.web"
LOG_GROUP = "module.app.aws_cloudwatch_log_group.app"
CANARY = "CANARY-f0r9e1"
TOKEN = "ghp-test-token-41c2"
SECRET = "whsec-e2e-88"
REPO = "acme/infra"


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout


def heal(sb: Sandbox) -> None:
    tf = sb.terraform()
    plan_file = sb.layout.root / "heal.tfplan"
    tf.plan(out=plan_file)
    tf.apply(plan_file)
    plan_file.unlink()


@dataclass
class World:
    kind: str
    sb: Sandbox
    state: ForgeState
    door: FrontDoor
    rt: core.Runtime
    bare: Path
    hook: httpx.Client
    options: core.ReconcileOptions

    def reconcile(self) -> core.WorkspaceResult:
        (target,) = core.resolve_workspaces(("sandbox",), self.rt)
        result = core.reconcile_workspace(target, self.rt, self.options)
        assert result.status != core.Status.ERROR, result.error
        self.door.sync_workspace(result)
        return result

    def comment(
        self, number: int, user: str, text: str, delivery: str | None = None, kind: str = "issue"
    ) -> httpx.Response:
        comment_id = uuid.uuid4().int % 10**9
        delivery = delivery or str(uuid.uuid4())
        if self.kind == "github":
            body = encode(github_comment_payload(self.state, number, user, text, comment_id))
            headers = {
                "X-GitHub-Event": "issue_comment",
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": github_signature(SECRET, body),
            }
        else:
            body = encode(gitlab_note_payload(self.state, kind, number, user, text, comment_id))
            headers = {"X-Gitlab-Event": "Note Hook", "Idempotency-Key": delivery, "X-Gitlab-Token": SECRET}
        return self.hook.post(f"/webhooks/{self.kind}", content=body, headers=headers)


@pytest.fixture(scope="module", params=["github", "gitlab"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    kind: str = request.param
    tmp = tmp_path_factory.mktemp(f"forge-{kind}")
    sb = Sandbox(SandboxLayout(tmp / "sandbox"))
    sb.up(reattach=True)
    try:
        # a sensitive variable feeds the security group's tags: a revert's plan holds it
        main_tf = sb.layout.stack_root / "terraform/sandbox/main.tf"
        text = main_tf.read_text()
        assert "tags = local.tags" in text
        text = text.replace("tags = local.tags", "tags = merge(local.tags, { secret = var.canary })")
        main_tf.write_text(
            text
            + f'\nvariable "canary" {{\n  type = string\n  sensitive = true\n  default = "{CANARY}"\n}}\n'
        )
        heal(sb)
        # the stack is a git repository whose `origin` is a real bare repository
        stack, bare = sb.layout.stack_root, tmp / "remote.git"
        (stack / ".gitignore").write_text(".terraform/\n*.tfstate*\n*.tfplan\n.terraform.lock.hcl\n")
        git(tmp, "init", "-q", "--bare", str(bare))
        git(stack, "init", "-q", "-b", "main")
        git(stack, "add", "-A")
        git(stack, "commit", "-q", "-m", "the stack")
        git(stack, "remote", "add", "origin", str(bare))
        git(stack, "push", "-q", "origin", "main")

        os.environ["E2E_FORGE_TOKEN"] = TOKEN
        os.environ["E2E_WEBHOOK_SECRET"] = SECRET
        state = ForgeState(token=TOKEN, repo=REPO)
        if kind == "github":
            state.permissions.update({"alice": "write", "mallory": "read"})
        else:
            state.permissions.update({"alice": "30", "mallory": "20"})  # Developer, Reporter
        with serve(github_app(state) if kind == "github" else gitlab_app(state)) as api:
            config = yaml.safe_load(sb.layout.config_file.read_text())
            config["forge"] = {
                "kind": kind,
                "api_url": api,
                "repo": REPO,
                "token_env": "E2E_FORGE_TOKEN",
                "webhook_secret_env": "E2E_WEBHOOK_SECRET",
                "allow_users": ["carol"],
            }
            config_path = sb.layout.root / "forge.yaml"
            config_path.write_text(yaml.safe_dump(config, sort_keys=False))
            from driftctl.config import load_config

            settings = load_config(config_path).forge
            assert isinstance(settings, ForgeSettings)
            rt = core.build_runtime(config_path, database_url=f"sqlite:///{tmp / 'forge.db'}")
            options = core.ReconcileOptions(mode="propose", checkov=False, trigger="schedule")
            door = FrontDoor(settings, make_forge(settings), rt, options=options)
            app = Starlette(routes=[Mount("/webhooks", routes=webhook_routes(door))])
            with serve(app) as url, httpx.Client(base_url=url, timeout=60) as client:
                yield World(kind, sb, state, door, rt, bare, client, options)
    finally:
        sb.down()


def _common(item: dict[str, Any]) -> dict[str, Any]:
    """A pull/merge request or issue of either forge in one shape: number, head, base, body, state."""
    return {
        "number": item.get("number", item.get("iid")),
        "head": item.get("head", item.get("source_branch")),
        "base": item.get("base", item.get("target_branch")),
        "body": item.get("body", item.get("description")),
        "state": {"opened": "open"}.get(item["state"], item["state"]),
        "labels": item.get("labels"),
    }


def pulls(w: World) -> list[dict[str, Any]]:
    return [_common(p) for p in w.state.pulls.values()]


def issues(w: World) -> list[dict[str, Any]]:
    return [_common(i) for i in w.state.issues.values()]


def test_1_drift_opens_an_adopt_pull_request_and_a_drift_issue_then_updates_them(world: World) -> None:
    w = world
    w.sb.drift("tag", address=LOG_GROUP, params={"key": "owner", "value": "alice-e2e"})  # benign: adopt
    w.sb.drift("sg-open-world")  # security: a revert, waiting for a human in propose mode
    first = w.reconcile()
    by_address = {i.address: i for i in first.items}
    assert by_address[LOG_GROUP].strategy == "adopt" and by_address[SG].strategy == "revert"

    (pull,) = pulls(w)
    head = branch_for("sandbox", LOG_GROUP)
    assert pull["head"] == head and pull["base"] == "main" and pull["state"] == "open"
    assert "+" in pull["body"] and "alice-e2e" in pull["body"]  # the verified diff
    assert "### Rationale" in pull["body"] and "### Verification" in pull["body"]
    assert "Decision" in pull["body"] and by_address[LOG_GROUP].proposal_id in pull["body"]
    # the branch is really on the remote, holding the edit on top of main
    pushed = git(w.bare, "show", f"{head}:terraform/sandbox/main.tf") + git(
        w.bare, "log", "--format=%s", head
    )
    assert "alice-e2e" in pushed or "alice-e2e" in git(w.bare, "diff", "main", head)
    assert git(w.bare, "rev-parse", f"{head}^") == git(w.bare, "rev-parse", "main")

    (issue,) = issues(w)
    assert issue["labels"] == ["driftctl-drift"] and issue["state"] == "open"
    assert SG in issue["body"] and by_address[SG].proposal_id in issue["body"]

    second = w.reconcile()  # same drift: updated, not duplicated
    again = {i.address: i for i in second.items}
    assert len(pulls(w)) == 1 and len(issues(w)) == 1
    assert again[LOG_GROUP].proposal_id in pulls(w)[0]["body"]
    assert again[LOG_GROUP].proposal_id != by_address[LOG_GROUP].proposal_id
    assert again[SG].proposal_id in issues(w)[0]["body"]
    assert w.state.thread_comments("pull", pull["number"]) == []  # the same change: updated quietly


def test_1b_approve_and_reject_without_an_id_on_the_pull_request(world: World) -> None:
    """The pull request's marker names the workspace and resource: no ID needed; carol is allow-listed
    in the config and has no access on the forge."""
    w = world
    (pull,) = pulls(w)
    number = pull["number"]
    (adopt,) = [
        p for p in core.list_proposals(w.rt, workspace="sandbox", open_only=True) if p.address == LOG_GROUP
    ]

    def replied(text: str) -> Any:
        return lambda s: any(text in c["body"] for c in s.thread_comments("pull", number))

    assert w.comment(number, "carol", "driftctl approve", kind="pull").status_code == 202
    w.state.wait_for(replied("Ran Approve for 1 workspace"))
    assert w.rt.store.proposal(adopt.id).status == "approved"
    assert w.comment(number, "carol", 'driftctl reject --reason "we keep the console value"', kind="pull")
    w.state.wait_for(replied("Ran Reject for 1 workspace"))
    row = w.rt.store.proposal(adopt.id)
    assert (row.status, row.reason) == ("rejected", "we keep the console value")


def test_2_apply_by_a_stranger_is_refused_by_an_allowed_user_applied(world: World) -> None:
    w = world
    (issue,) = issues(w)
    number = issue["number"]
    pending = core.list_proposals(w.rt, workspace="sandbox", status="pending")
    sg_id = next(p.id for p in pending if p.address == SG)

    assert w.comment(number, "mallory", f"driftctl apply {sg_id}").status_code == 202
    w.state.wait_for(lambda s: any("Sorry mallory" in c["body"] for c in s.thread_comments("issue", number)))
    assert w.rt.store.proposal(sg_id).status == "pending"  # nothing ran

    delivery = str(uuid.uuid4())
    before = len(w.state.thread_comments("issue", number))
    accepted = w.comment(number, "alice", f"driftctl apply {sg_id}", delivery=delivery)
    assert accepted.status_code == 202, accepted.text
    w.state.wait_for(lambda s: any("Ran Apply" in c["body"] for c in s.thread_comments("issue", number)), 600)
    reply = next(c for c in w.state.thread_comments("issue", number) if "Ran Apply" in c["body"])
    assert reply["body"].startswith("Ran Apply for 1 workspace: `sandbox`")
    assert "✅ applied" in reply["body"] and "1 applied, 0 not applied" in reply["body"]
    assert any("eyes" in c["reactions"] for c in w.state.comments.values())  # acknowledged
    # the "running" comment posted when Terraform started was replaced by the reply
    assert not any(c["body"].startswith("⏳") for c in w.state.thread_comments("issue", number))
    assert w.rt.store.proposal(sg_id).status == "applied"
    # the audit trail records who asked, and in which comment
    with Store(w.rt.store.url) as store:
        requested = [e for e in store.entries() if e.kind == "approval" and e.data.get("proposal") == sg_id]
    assert {e.status for e in requested} >= {"approved", "apply_requested"}
    assert all(e.data["by"] == "alice" for e in requested)
    page = "issues/" if w.kind == "github" else "-/issues/"
    assert all(e.data["source"].startswith(f"https://forge.example/acme/infra/{page}") for e in requested)
    (target,) = core.resolve_workspaces(("sandbox",), w.rt)
    detect_only = core.ReconcileOptions(mode="detect", checkov=False)
    assert SG not in {i.address for i in core.reconcile_workspace(target, w.rt, detect_only).items}

    # the same delivery again: ignored, nothing runs twice
    replayed = w.comment(number, "alice", f"driftctl apply {sg_id}", delivery=delivery)
    assert replayed.status_code == 200 and replayed.json() == {"ignored": "delivery already seen"}
    assert len(w.state.thread_comments("issue", number)) == before + 1


def test_3_a_bad_signature_is_401_and_nothing_runs(world: World) -> None:
    w = world
    (issue,) = issues(w)
    if w.kind == "github":
        body = encode(github_comment_payload(w.state, issue["number"], "alice", "driftctl plan", 99))
        bad = [{}, {"X-Hub-Signature-256": github_signature("not-the-secret", body)}]
        base = {"X-GitHub-Event": "issue_comment"}
    else:
        body = encode(gitlab_note_payload(w.state, "issue", issue["number"], "alice", "driftctl plan", 99))
        bad = [{}, {"X-Gitlab-Token": "not-the-secret"}]
        base = {"X-Gitlab-Event": "Note Hook"}
    before = len(w.state.comments)
    for extra in bad:
        headers = {
            **base,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "Idempotency-Key": str(uuid.uuid4()),
            **extra,
        }
        assert w.hook.post(f"/webhooks/{w.kind}", content=body, headers=headers).status_code == 401
    assert len(w.state.comments) == before


def test_4_drift_gone_closes_the_pull_request_and_the_issue_a_comment_plan_reopens_it(world: World) -> None:
    w = world
    heal(w.sb)
    w.reconcile()
    (pull,) = pulls(w)
    assert pull["state"] == "closed"
    assert any("superseded" in c["body"] for c in w.state.thread_comments("pull", pull["number"]))
    (issue,) = issues(w)
    assert issue["state"] == "closed"

    w.sb.drift("sg-open-world")
    # `driftctl plan` commented on the closed issue: re-detect, re-draft, re-score, re-post
    assert w.comment(issue["number"], "alice", "driftctl plan").status_code == 202
    w.state.wait_for(
        lambda s: any(
            "Ran Plan for 1 workspace" in c["body"] for c in s.thread_comments("issue", issue["number"])
        ),
        600,
    )
    reply = next(
        c["body"] for c in w.state.thread_comments("issue", issue["number"]) if "Ran Plan" in c["body"]
    )
    assert SG in reply and "proposed: revert" in reply and "drift issue reopened" in reply
    (issue,) = issues(w)
    assert issue["state"] == "open" and SG in issue["body"]
    assert any("Drift is back" in c["body"] for c in w.state.thread_comments("issue", issue["number"]))


def test_5_a_100kb_output_splits_into_comments_that_render(world: World) -> None:
    w = world
    (issue,) = issues(w)
    output = "\n".join(f'  ~ resource "aws_x" "r{i}" {{ tag = "`v{i}`" }}' + " " * 40 for i in range(1500))
    assert len(output) > 100_000
    body = command_reply(
        "Plan", "sandbox", [Section("`big`", "planned", True, output=output, lang="diff")], "end"
    )
    before = {c["id"] for c in w.state.thread_comments("issue", issue["number"])}
    w.door.post(Thread("issue", issue["number"]), body)
    parts = [c["body"] for c in w.state.thread_comments("issue", issue["number"]) if c["id"] not in before]
    assert len(parts) >= 2
    md = MarkdownIt("commonmark", {"html": True})
    for part in parts:
        assert len(part) <= 65_536
        balanced(part)
        html = md.render(part)
        assert html.count("<details>") == html.count("</details>")
        assert html.count("<pre>") == html.count("</pre>") >= 1


def test_6_the_sensitive_canary_never_reaches_the_forge(world: World) -> None:
    text = world.state.all_text()
    assert "aws_security_group" in text  # there is real content to search
    assert CANARY not in text
    assert not re.search(r"ghp-test-token|whsec-e2e", text)
