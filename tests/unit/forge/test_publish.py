"""sync_workspace without Terraform: stored proposals, a real git repository and remote, a loopback GitHub."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from driftctl import core
from driftctl.audit.tables import ProposalRow
from driftctl.forge.door import FrontDoor, make_forge
from driftctl.forge.settings import ForgeSettings
from driftctl.forge.templates import branch_for
from driftctl.reconcile.publish import commit_branch
from tests.unit.forge.conftest import TOKEN
from tests.unit.forge.fake_forge import ForgeState, github_app
from tests.unit.forge.loopback import serve

FIXTURE = Path(__file__).parents[2] / "fixtures/forge/proposals.json"
ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **ENV}, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@dataclass
class Setup:
    door: FrontDoor
    state: ForgeState
    repo: Path
    bare: Path
    adopt: ProposalRow


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv("DRIFTCTL_FORGE_TOKEN", TOKEN)
    monkeypatch.setenv("DRIFTCTL_WEBHOOK_SECRET", "s")
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    repo, bare = tmp_path / "repo", tmp_path / "remote.git"
    (repo / "modules/app").mkdir(parents=True)
    main_tf = repo / "modules/app/main.tf"
    lines = [f"# line {i}" for i in range(1, 84)]
    lines += ["  tags = {", '    project   = "driftctl-sandbox"', '    component = "logs"', "  }", "}"]
    main_tf.write_text("\n".join(lines) + "\n")
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "push", "-q", "origin", "main")
    config = tmp_path / "driftctl.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "workspaces": [{"name": "sandbox", "path": "repo"}]}))
    rt = core.build_runtime(config, database_url=f"sqlite:///{tmp_path / 'd.db'}")
    rows = {r["strategy"]: r for r in json.loads(FIXTURE.read_text())}
    data = json.loads(rows["adopt"]["data"])
    (edit,) = data["proposal"]["edits"]
    before = main_tf.read_text()
    after = before.replace(
        '    component = "logs"\n', '    component = "logs"\n    owner     = "alice-e2e"\n'
    )
    from driftctl.models import FileEdit

    branch = f"driftctl/adopt-{rows['adopt']['id']}"
    commit_branch(repo, repo, [FileEdit(edit["path"], before, after)], branch, "adopt")
    adopt = rt.store.save_proposal(ProposalRow(run_id="r", **{**rows["adopt"], "branch": branch}))
    rt.store.save_proposal(ProposalRow(run_id="r", **rows["revert"]))
    state = ForgeState(token=TOKEN, repo="acme/infra")
    with serve(github_app(state)) as api:
        settings = ForgeSettings(kind="github", repo="acme/infra", api_url=api)
        yield Setup(FrontDoor(settings, make_forge(settings), rt), state, repo, bare, adopt)


def result(status: core.Status) -> core.WorkspaceResult:
    return core.WorkspaceResult(workspace="sandbox", mode="propose", status=status)


def test_a_drifting_run_opens_then_updates_one_pull_request(setup: Setup) -> None:
    first = setup.door.sync_workspace(result(core.Status.DRIFT))
    assert len(first.opened) == 1 and first.issue == "opened" and not first.problems
    head = branch_for("sandbox", setup.adopt.address)
    assert git(setup.bare, "rev-parse", head) == git(setup.repo, "rev-parse", setup.adopt.branch or "")
    second = setup.door.sync_workspace(result(core.Status.DRIFT))
    assert second.opened == [] and second.updated == first.opened and second.issue == "updated"
    assert len(setup.state.pulls) == 1 and len(setup.state.issues) == 1
    (number,) = setup.state.pulls
    assert setup.state.thread_comments("pull", number) == []  # the same change: updated quietly

    # reality moved again: a newer proposal for the same resource with another change
    rt = setup.door.runtime
    old = setup.adopt
    rt.store.update_proposal(old.id, status="superseded")
    main_tf = setup.repo / "modules/app/main.tf"
    before = main_tf.read_text()
    after = before.replace('    component = "logs"\n', '    component = "logs"\n    owner     = "bob"\n')
    from driftctl.models import FileEdit

    commit_branch(
        setup.repo, setup.repo, [FileEdit("modules/app/main.tf", before, after)], "driftctl/adopt-b0b", "m"
    )
    data = json.loads(old.data)
    data["proposal"]["edits"] = [{"path": "modules/app/main.tf", "diff": '+    owner     = "bob"\n'}]
    fields = {**old.model_dump(), "id": "b0b000000000", "status": "pending", "branch": "driftctl/adopt-b0b"}
    rt.store.save_proposal(ProposalRow(**{**fields, "data": json.dumps(data)}))
    third = setup.door.sync_workspace(result(core.Status.DRIFT))
    assert third.updated == first.opened and third.closed == []
    (comment,) = setup.state.thread_comments("pull", number)
    assert "The change was updated" in comment["body"] and "b0b000000000" in comment["body"]
    assert '"bob"' in setup.state.pulls[number]["body"]
    head = branch_for("sandbox", old.address)
    assert git(setup.bare, "rev-parse", head) == git(setup.repo, "rev-parse", "driftctl/adopt-b0b")


def test_an_errored_or_skipped_run_changes_nothing(setup: Setup) -> None:
    for status in (core.Status.ERROR, core.Status.SKIPPED):
        report = setup.door.sync_workspace(result(status))
        assert report.opened == report.updated == report.closed == [] and report.issue == "none"
    assert setup.state.requests == []  # not one call to the forge


def test_a_failed_push_opens_no_pull_request_and_names_no_url(setup: Setup) -> None:
    git(setup.repo, "remote", "set-url", "origin", "https://user:s3cret-pat@127.0.0.1:9/nowhere.git")
    report = setup.door.sync_workspace(result(core.Status.DRIFT))
    assert report.opened == [] and setup.state.pulls == {}
    (problem,) = report.problems
    assert "git push" in problem and "s3cret-pat" not in problem
    assert report.issue == "opened"  # the revert still gets its drift issue
