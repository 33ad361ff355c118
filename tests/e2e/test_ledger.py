"""The drift ledger end to end: drift written into state by an apply is still reported, and healable.

Terraform writes the refreshed state of everything in a saved plan's refresh scope when it applies
it, so a targeted revert (or anyone's ``apply -refresh-only``) can write another resource's drift into
state, after which no plan's ``resource_drift`` shows it. Each test runs the real CLI as a subprocess
against a sandbox (moto + real Terraform, reattached provider) with its own database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftctl.audit.store import Store
from driftctl.sandbox.sandbox import Sandbox

pytestmark = pytest.mark.slow

POLICY = "module.app.aws_iam_role_policy.app"  # its policy references every queue's arn
QUEUE = "module.app.aws_sqs_queue.jobs[0]"


def refresh_only(sb: Sandbox) -> None:
    """What a colleague's `terraform apply -refresh-only` does: write reality into state."""
    sb.terraform().run(("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color"))


def heal(sb: Sandbox) -> None:
    """Reality back to the code, and state to reality (an attribute no plan puts back may be stale)."""
    tf = sb.terraform()
    plan_file = sb.layout.root / "heal.tfplan"
    if tf.plan(out=plan_file).changes:
        tf.apply(plan_file)
    plan_file.unlink(missing_ok=True)
    refresh_only(sb)


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DRIFTCTL_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run(
        [sys.executable, "-m", "driftctl.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    assert isinstance(doc, dict)
    return doc


def detect(db: Path, config: Path) -> tuple[int, dict[str, Any]]:
    proc = cli(db, "detect", "-q", "-c", str(config), "-o", "json")
    (ws,) = as_json(proc)["workspaces"]
    return proc.returncode, ws


def reconcile(db: Path, config: Path, *extra: str) -> tuple[int, dict[str, dict[str, Any]]]:
    proc = cli(
        db, "reconcile", "-q", "-c", str(config), "--mode", "auto", "--no-checkov", "-o", "json", *extra
    )
    (ws,) = as_json(proc)["workspaces"]
    return proc.returncode, {i["address"]: i for i in ws["items"]}


def set_retention(sb: Sandbox, seconds: str) -> None:
    sqs = sb.clients()("sqs")
    url = sb.resources()[QUEUE].attributes["id"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": seconds})


def retention(sb: Sandbox) -> str:
    sqs = sb.clients()("sqs")
    url = sb.resources()[QUEUE].attributes["id"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["MessageRetentionPeriod"])
    return str(got["Attributes"]["MessageRetentionPeriod"])


def queue_visibility(sb: Sandbox) -> str:
    sqs = sb.clients()("sqs")
    url = sb.resources()[QUEUE].attributes["id"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    return str(got["Attributes"]["VisibilityTimeout"])


@pytest.fixture(scope="module")
def stack(fast_sandbox: Sandbox) -> Sandbox:
    """The sample stack with one queue attribute no plan puts back.

    In AWS that is an Optional+Computed attribute the code omits (a queue's ``policy``, its SSE
    settings); the stand-in provider models none, so here the queue ignores changes to its message
    retention. Drift on it shows in ``resource_drift`` and never in ``resource_changes``.
    """
    main_tf = fast_sandbox.layout.stack_root / "modules/app/main.tf"
    text = main_tf.read_text()
    old = "  visibility_timeout_seconds = 60\n  tags                       = var.tags\n}"
    assert old in text
    lifecycle = "\n\n  lifecycle {\n    ignore_changes = [message_retention_seconds]\n  }\n}"
    main_tf.write_text(text.replace(old, old[:-2] + lifecycle))
    return fast_sandbox


@pytest.fixture
def sb(stack: Sandbox) -> Sandbox:
    heal(stack)
    return stack


@pytest.fixture
def config(sb: Sandbox) -> Path:
    return sb.layout.config_file


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "driftctl.db"


def finding(ws: dict[str, Any], address: str) -> dict[str, Any] | None:
    return next((f for f in ws["findings"] if f["address"] == address), None)


def test_a_dependency_absorbed_by_a_targeted_revert_is_still_drift(
    sb: Sandbox, config: Path, db: Path
) -> None:
    # No plan puts message_retention_seconds back (see ``stack``): once in state, only the ledger has it.
    sb.drift("iam-policy-widen", address=POLICY)
    set_retention(sb, "86400")

    code, got = reconcile(db, config)
    assert got[POLICY]["outcome"] == "healed", got
    assert got[QUEUE]["outcome"] in ("needs_human", "proposed"), got
    with Store(f"sqlite:///{db}") as store:
        run_ids = {e.run_id for e in store.entries(kind="run")}
    assert code == 2

    # The policy's targeted apply refreshed the queue (a dependency) and wrote its drift into state.
    assert retention(sb) == "86400"  # the cloud still differs from what was last applied
    code, ws = detect(db, config)
    carried = finding(ws, QUEUE)
    assert code == 2 and carried is not None, ws  # before the ledger: exit 0, "clean"
    assert carried["ledger"]["absorbed_at"], carried
    assert carried["ledger"]["absorbed_by"] in run_ids, carried  # the reconcile run whose apply wrote it
    assert [(c["path"], c["before"], c["after"]) for c in carried["changes"]] == [
        ("message_retention_seconds", 345600, 86400)
    ]

    # Put back by hand: the item closes as gone, and detection is clean again.
    set_retention(sb, "345600")
    code, ws = detect(db, config)
    assert code == 0, ws
    from driftctl.ledger.store import LedgerStore

    with Store(f"sqlite:///{db}") as store:
        history = LedgerStore(store).history("sandbox", QUEUE)
    assert [i.status.value for i in history] == ["gone"], history


def test_an_external_refresh_only_apply_does_not_hide_drift(sb: Sandbox, config: Path, db: Path) -> None:
    sb.drift("queue-visibility", address=QUEUE, params={"seconds": "7"})
    code, ws = detect(db, config)
    assert code == 2 and finding(ws, QUEUE) is not None, ws

    refresh_only(sb)  # someone else accepts reality into state

    code, ws = detect(db, config)
    carried = finding(ws, QUEUE)
    assert code == 2 and carried is not None, ws  # before the ledger: exit 0, the queue "pending"
    assert carried["ledger"]["absorbed_at"] and carried["ledger"]["absorbed_by"] is None, carried
    assert [(c["path"], c["before"], c["after"]) for c in carried["changes"]] == [
        ("visibility_timeout_seconds", 60, 7)
    ]
    assert ws["pending"] == [], ws

    console = cli(db, "detect", "-c", str(config), "--no-color")
    assert console.returncode == 2
    assert "absorbed into state" in console.stdout and "reality still differs" in console.stdout

    # propose reads the same ledger (the core's runtime): the absorbed drift gets a verified revert.
    proposed = as_json(
        cli(db, "propose", "sandbox", "-q", "-c", str(config), "--address", QUEUE, "-o", "json")
    )
    (p,) = proposed["proposals"]
    assert (p["address"], p["strategy"], p["verification"]["ok"]) == (QUEUE, "revert", True), p

    code, got = reconcile(db, config)
    assert got[QUEUE]["outcome"] == "healed", got
    assert queue_visibility(sb) == "60"


def test_an_address_that_drifts_again_after_heals_is_flapping(sb: Sandbox, db: Path) -> None:
    raw = yaml.safe_load(sb.layout.config_file.read_text())
    raw["defaults"] = {"flapping": {"window": "24h", "heals": 1}}
    config = sb.layout.root / "flapping.yaml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False))

    sb.drift("queue-visibility", address=QUEUE, params={"seconds": "9"})
    code, got = reconcile(db, config)
    assert (code, got[QUEUE]["outcome"]) == (3, "healed"), got

    sb.drift("queue-visibility", address=QUEUE, params={"seconds": "11"})  # the console user again
    code, got = reconcile(db, config)
    item = got[QUEUE]
    assert code == 2 and item["outcome"] == "proposed" and item["decision"] == "propose", item
    assert "flapping:" in item["rationale"], item
    assert "ignore_changes = [visibility_timeout_seconds]" in item["rationale"], item
    assert queue_visibility(sb) == "11"  # not applied

    with Store(f"sqlite:///{db}") as store:
        flagged = [e for e in store.entries(kind="ledger") if e.subject == QUEUE]
    assert [e.status for e in flagged] == ["flapping"], flagged
    assert flagged[0].data["heals"] and flagged[0].data["paths"] == ["visibility_timeout_seconds"]
