"""The public core on the real sandbox: healing one finding, and applying an approved adopt proposal.

An adopt is applied by writing its verified edit into the code, a targeted apply that records the
refreshed object in state, and a confirming plan; if the drift stays, the edit is rolled back. The
edit comes from the stored proposal record (never from a rendered document).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from driftctl import core
from driftctl.detect.engine import detect_workspace
from driftctl.ledger.store import LedgerStore
from driftctl.sandbox.sandbox import Sandbox

pytestmark = pytest.mark.slow

LOG_GROUP = "module.app.aws_cloudwatch_log_group.app"
SG = "module.app.module.network.aws_security_group.web"
QUEUE = "module.app.aws_sqs_queue.jobs[0]"
COMMENT = "https://git.example.test/infra/pull/7#issuecomment-42"


@pytest.fixture
def sb(fast_sandbox: Sandbox) -> Iterator[Sandbox]:
    module = fast_sandbox.layout.stack_root / "modules/app/main.tf"
    pristine = module.read_text()
    yield fast_sandbox
    module.write_text(pristine)
    tf = fast_sandbox.terraform()
    plan_file = fast_sandbox.layout.root / "heal.tfplan"
    if tf.plan(out=plan_file).changes:
        tf.apply(plan_file)
    plan_file.unlink(missing_ok=True)


@pytest.fixture
def rt(sb: Sandbox, tmp_path: Path) -> core.Runtime:
    return core.build_runtime(
        sb.layout.config_file, database_url=f"sqlite:///{tmp_path / 'audit.db'}", data_dir=tmp_path
    )


OPTIONS = core.ReconcileOptions(mode="propose", drafter="rules", checkov=False, trigger="comment")


def propose_tag(sb: Sandbox, rt: core.Runtime, owner: str) -> str:
    sb.drift("tag", address=LOG_GROUP, params={"key": "owner", "value": owner})
    report = core.reconcile(core.resolve_workspaces([], rt), rt, OPTIONS)
    (ws,) = report.workspaces
    (item,) = [i for i in ws.items if i.address == LOG_GROUP]
    assert (item.outcome, item.strategy) == (core.Outcome.PROPOSED, "adopt"), ws
    assert item.proposal_id is not None
    core.approve_proposal(rt, item.proposal_id, "alice", source=COMMENT)
    return item.proposal_id


def drifted(rt: core.Runtime) -> set[str]:
    (target,) = core.resolve_workspaces([], rt)
    return {f.address for f in detect_workspace(target, rt.policy, lambda _m: None).findings}


def test_an_approved_adopt_writes_the_edit_and_the_drift_is_gone(sb: Sandbox, rt: core.Runtime) -> None:
    module = sb.layout.stack_root / "modules/app/main.tf"
    before = module.read_text()
    pid = propose_tag(sb, rt, "team-adopt")

    result = core.apply_proposal(rt, pid, OPTIONS, by="alice", source=COMMENT)

    assert (result.status, result.proposal) == ("applied", pid), result.message
    after = module.read_text()
    assert after != before and "team-adopt" in after
    assert LOG_GROUP not in drifted(rt)  # the code now says what reality says, and state agrees
    assert core.list_proposals(rt, status="applied")[0].id == pid
    history = LedgerStore(rt.store).history("sandbox", LOG_GROUP)  # the drift ledger: adopted, closed
    assert [(i.status.value, i.closed_by) for i in history] == [("adopted", f"proposal {pid}")]
    entries = rt.store.entries()
    (asked,) = [e for e in entries if (e.kind, e.status) == ("approval", "apply_requested")]
    assert (asked.data["by"], asked.data["source"], asked.data["trigger"]) == ("alice", COMMENT, "comment")
    (started,) = [e for e in entries if (e.kind, e.status, e.subject) == ("action", "started", LOG_GROUP)]
    assert (started.data["action"], started.data["proposal"]) == ("write-code", pid)
    (finished,) = [e for e in entries if (e.kind, e.status) == ("action", "finished")]
    assert finished.data["started_seq"] == started.seq


def test_an_adopt_whose_drift_stays_is_rolled_back(sb: Sandbox, rt: core.Runtime) -> None:
    module = sb.layout.stack_root / "modules/app/main.tf"
    before = module.read_text()
    pid = propose_tag(sb, rt, "team-first")
    # Reality moves on after the approval: the approved edit no longer matches it.
    sb.drift("tag", address=LOG_GROUP, params={"key": "owner", "value": "team-second"})

    result = core.apply_proposal(rt, pid, OPTIONS, by="alice")

    assert result.status == "failed" and "rolled back" in result.message, result.message
    assert module.read_text() == before  # the edit is undone
    assert LOG_GROUP in drifted(rt)  # and the drift is still reported
    assert [i.status.value for i in LedgerStore(rt.store).history("sandbox", LOG_GROUP)] == ["open"]
    (failed,) = [e for e in rt.store.entries() if (e.kind, e.status) == ("action", "failed")]
    assert failed.subject == LOG_GROUP and failed.data["message"].startswith("rolled back")


def test_an_adopt_whose_file_changed_since_drafting_is_not_written(sb: Sandbox, rt: core.Runtime) -> None:
    module = sb.layout.stack_root / "modules/app/main.tf"
    pid = propose_tag(sb, rt, "team-stale")
    edited = module.read_text() + "\n# a colleague's change\n"
    module.write_text(edited)

    result = core.apply_proposal(rt, pid, OPTIONS)

    assert result.status == "stale" and "changed since the fix was drafted" in result.message
    assert module.read_text() == edited
    assert not [e for e in rt.store.entries() if e.kind == "action"]


def test_heal_finding_heals_that_address_and_leaves_the_rest_for_the_next_run(
    sb: Sandbox, rt: core.Runtime
) -> None:
    sb.drift("sg-open-world")
    sb.drift("queue-visibility", address=QUEUE)
    (target,) = core.resolve_workspaces([], rt)
    options = core.ReconcileOptions(mode="auto", drafter="rules", checkov=False, trigger="event")

    result = core.heal_finding(target, SG, rt, options)

    assert result.status is core.Status.HEALED, result
    assert [(i.address, i.outcome) for i in result.items] == [(SG, core.Outcome.HEALED)]
    assert drifted(rt) == {QUEUE}  # the other drift waits for the next run
    assert not core.list_proposals(rt)  # nothing was proposed or superseded for the other address
    clean = core.heal_finding(target, SG, rt, options)
    assert (clean.status, clean.items) == (core.Status.CLEAN, ())
