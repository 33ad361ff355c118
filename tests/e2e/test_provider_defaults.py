"""The stand-in provider plans like hashicorp/aws: omitted attributes go back to their defaults.

Real Terraform, real provider process, moto. The sample stack's queue sets ``visibility_timeout_seconds``
and omits ``message_retention_seconds`` (hashicorp/aws: Optional, Default 345600): a retention changed
out of band is drift that a plan puts back to 345600, as the real provider's plan would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.sandbox.sandbox import Sandbox

pytestmark = pytest.mark.slow

QUEUE = "module.app.aws_sqs_queue.jobs[0]"
FOURTEEN_DAYS = 1_209_600
DEFAULT_RETENTION = 345_600


def _retention(sandbox: Sandbox, url: str) -> int:
    attrs = sandbox.clients()("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    return int(attrs["Attributes"]["MessageRetentionPeriod"])


def _change(plan: dict[str, Any], key: str, address: str) -> dict[str, Any]:
    found = {c["address"]: c["change"] for c in plan.get(key, [])}
    assert address in found, f"{address} not in {key}: {sorted(found)}"
    return found[address]  # type: ignore[no-any-return]


@pytest.fixture
def drifted(fast_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The queue's retention changed out of band; the stack is healed again afterwards."""
    assert fast_sandbox.terraform().plan().changes is False  # starts clean
    result = fast_sandbox.drift("queue-retention", address=QUEUE, params={"seconds": str(FOURTEEN_DAYS)})
    assert result.address == QUEUE
    yield fast_sandbox
    tf = fast_sandbox.terraform()
    plan_file = fast_sandbox.layout.root / "heal-defaults.tfplan"
    if tf.plan(out=plan_file).changes:
        tf.apply(plan_file)


def test_an_omitted_attribute_changed_out_of_band_plans_back_to_its_default(drifted: Sandbox) -> None:
    tf = drifted.terraform()
    plan_file = drifted.layout.root / "defaults.tfplan"
    assert tf.plan(out=plan_file).changes
    plan = tf.show_json(plan_file)

    drift = _change(plan, "resource_drift", QUEUE)
    assert drift["before"]["message_retention_seconds"] == DEFAULT_RETENTION
    assert drift["after"]["message_retention_seconds"] == FOURTEEN_DAYS

    change = _change(plan, "resource_changes", QUEUE)
    assert change["actions"] == ["update"]
    assert change["before"]["message_retention_seconds"] == FOURTEEN_DAYS
    assert change["after"]["message_retention_seconds"] == DEFAULT_RETENTION
    # Only the drifted attribute moves: the attributes the code sets, and the other defaults, stay.
    moved = {k for k in change["after"] if change["after"][k] != change["before"].get(k)}
    assert moved == {"message_retention_seconds"}
    # Nothing else in the stack is planned.
    others = [c["address"] for c in plan["resource_changes"] if c["change"]["actions"] != ["no-op"]]
    assert others == [QUEUE]


def test_detect_reports_it_as_drift_and_the_plan_is_its_revert(drifted: Sandbox) -> None:
    result = CliRunner().invoke(main, ["detect", "-q", "-c", str(drifted.layout.config_file), "-o", "json"])
    assert result.exit_code == 2, result.output
    (ws,) = json.loads(result.stdout)["workspaces"]
    findings = {f["address"]: f for f in ws["findings"]}
    assert set(findings) == {QUEUE}
    (change,) = findings[QUEUE]["changes"]
    assert (change["path"], change["before"], change["after"]) == (
        "message_retention_seconds",
        DEFAULT_RETENTION,
        FOURTEEN_DAYS,
    )
    assert findings[QUEUE]["severity"] == "medium"  # sqs-attributes-changed
    assert ws["pending"] == []  # the planned change is the exact revert of the drift, not a code change


def test_applying_the_plan_puts_the_default_back_in_the_cloud(drifted: Sandbox, tmp_path: Path) -> None:
    tf = drifted.terraform()
    url = drifted.resources()[QUEUE].attributes["url"]
    assert _retention(drifted, url) == FOURTEEN_DAYS
    plan_file = tmp_path / "heal.tfplan"
    assert tf.plan(out=plan_file, targets=[QUEUE]).changes
    tf.apply(plan_file)
    assert _retention(drifted, url) == DEFAULT_RETENTION
    assert tf.plan().changes is False


ANONYMOUS = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region = "us-east-1"
}

# No names: hashicorp/aws generates them (name is Optional+Computed+ForceNew); so does the stand-in.
resource "aws_sqs_queue" "anonymous" {}

resource "aws_cloudwatch_log_group" "anonymous" {}
"""


def test_resources_without_a_name_get_a_generated_one_and_the_defaults(
    fast_sandbox: Sandbox, tmp_path: Path
) -> None:
    workspace = tmp_path / "anonymous"
    workspace.mkdir()
    (workspace / "main.tf").write_text(ANONYMOUS)
    tf = fast_sandbox.terraform(workspace=workspace)
    tf.init()
    plan_file = workspace / "create.tfplan"
    assert tf.plan(out=plan_file).changes
    planned = {c["address"]: c["change"] for c in tf.show_json(plan_file)["resource_changes"]}
    queue = planned["aws_sqs_queue.anonymous"]
    assert queue["after_unknown"]["name"] is True  # known after apply, as with the real provider
    assert queue["after"]["message_retention_seconds"] == DEFAULT_RETENTION
    assert queue["after"]["visibility_timeout_seconds"] == 30 and queue["after"]["delay_seconds"] == 0
    assert planned["aws_cloudwatch_log_group.anonymous"]["after"]["retention_in_days"] == 0
    tf.apply(plan_file)
    try:
        shown = tf.run(("show", "-json", "-no-color")).stdout
        values = {r["address"]: r["values"] for r in json.loads(shown)["values"]["root_module"]["resources"]}
        for address in ("aws_sqs_queue.anonymous", "aws_cloudwatch_log_group.anonymous"):
            assert values[address]["name"].startswith("terraform-"), values[address]
        assert _retention(fast_sandbox, values["aws_sqs_queue.anonymous"]["url"]) == DEFAULT_RETENTION
        assert tf.plan().changes is False  # the generated names are stable: no diff, no replacement
    finally:
        tf.run(("destroy", "-auto-approve", "-input=false", "-no-color"))
