"""`driftctl detect` on the real sandbox: every mutation found with address, path, values, severity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.sandbox.sandbox import Sandbox

pytestmark = pytest.mark.slow


def detect(config: Path, *args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(main, ["detect", "-q", "-c", str(config), "-o", "json", *args])
    return result.exit_code, json.loads(result.stdout)


def heal(sandbox: Sandbox) -> None:
    tf = sandbox.terraform()
    plan_file = sandbox.layout.root / "heal.tfplan"
    if tf.plan(out=plan_file).changes:
        tf.apply(plan_file)


@pytest.fixture
def healed(sandbox: Sandbox) -> Iterator[Sandbox]:
    yield sandbox
    heal(sandbox)


def _workspace(report: dict[str, object]) -> dict[str, object]:
    (ws,) = report["workspaces"]  # type: ignore[misc]
    return ws  # type: ignore[no-any-return]


def test_clean_sandbox_exits_0(sandbox: Sandbox) -> None:
    code, report = detect(sandbox.layout.config_file)
    ws = _workspace(report)
    assert code == 0, ws
    assert ws["status"] == "clean" and ws["findings"] == [] and ws["pending"] == []


def test_each_mutation_is_found_with_path_values_and_severity(healed: Sandbox) -> None:
    injected = [
        ("sg-open-world", None, {"port": "22"}),
        ("tag", 'module.app.aws_instance.web["blue"]', {"key": "owner", "value": "eve"}),
        ("versioning-suspend", 'module.storage["assets"].aws_s3_bucket_versioning.this', {}),
        ("public-access-off", 'module.storage["logs"].aws_s3_bucket_public_access_block.this', {}),
        ("iam-policy-widen", None, {}),
        ("queue-delete", "module.app.aws_sqs_queue.jobs[0]", {}),
    ]
    for mutation, address, params in injected:
        healed.drift(mutation, address=address, params=params)
    code, report = detect(healed.layout.config_file)
    ws = _workspace(report)
    found = {f["address"]: f for f in ws["findings"]}  # type: ignore[attr-defined]
    assert code == 2
    assert set(found) == {
        "module.app.module.network.aws_security_group.web",
        'module.app.aws_instance.web["blue"]',
        'module.storage["assets"].aws_s3_bucket_versioning.this',
        'module.storage["logs"].aws_s3_bucket_public_access_block.this',
        "module.app.aws_iam_role_policy.app",
        "module.app.aws_sqs_queue.jobs[0]",
    }
    sg = found["module.app.module.network.aws_security_group.web"]
    assert sg["severity"] == "critical"
    assert sg["changes"][0]["path"] == "ingress" and sg["changes"][0]["after"]["cidr_blocks"] == ["0.0.0.0/0"]
    tag = found['module.app.aws_instance.web["blue"]']
    assert [(c["path"], c["kind"], c["after"]) for c in tag["changes"]] == [("tags.owner", "added", "eve")]
    assert tag["severity"] == "low"
    versioning = found['module.storage["assets"].aws_s3_bucket_versioning.this']
    assert versioning["changes"][0]["path"] == "versioning_configuration[0].status"
    assert (versioning["changes"][0]["before"], versioning["changes"][0]["after"]) == ("Enabled", "Suspended")
    assert found['module.storage["logs"].aws_s3_bucket_public_access_block.this']["severity"] == "critical"
    assert found["module.app.aws_iam_role_policy.app"]["severity"] == "critical"  # Action * on *
    assert found["module.app.aws_sqs_queue.jobs[0]"]["kind"] == "deleted"
    assert ws["pending"] == []


def test_pending_code_change_next_to_drift(healed: Sandbox) -> None:
    module = healed.layout.stack_root / "modules/app/main.tf"
    original = module.read_text()
    module.write_text(original.replace("retention_in_days = 30", "retention_in_days = 60"))
    try:
        healed.drift(
            "instance-type", address='module.app.aws_instance.web["green"]', params={"type": "c5.large"}
        )
        code, report = detect(healed.layout.config_file)
        ws = _workspace(report)
        assert code == 2
        assert [f["address"] for f in ws["findings"]] == ['module.app.aws_instance.web["green"]']  # type: ignore[index]
        assert [(p["address"], p["paths"]) for p in ws["pending"]] == [  # type: ignore[index]
            ("module.app.aws_cloudwatch_log_group.app", ["retention_in_days"])
        ]
    finally:
        module.write_text(original)


def test_a_failing_workspace_is_an_error_and_the_others_still_run(sandbox: Sandbox, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = \n}\n')
    data = yaml.safe_load(sandbox.layout.config_file.read_text())
    data["workspaces"][0]["path"] = str(sandbox.layout.workspace)
    data["workspaces"].append({"name": "broken", "path": str(broken)})
    config = tmp_path / "driftctl.yaml"
    config.write_text(yaml.safe_dump(data))
    code, report = detect(config)
    statuses = {w["name"]: w for w in report["workspaces"]}  # type: ignore[attr-defined]
    assert code == 1
    assert statuses["sandbox"]["status"] == "clean"
    assert statuses["broken"]["status"] == "error"
    assert "Invalid expression" in statuses["broken"]["error"]


def test_console_shows_the_leaf_that_moved_and_sarif_points_at_the_resource_line(healed: Sandbox) -> None:
    healed.drift("sg-open-world", params={"port": "22"})
    healed.drift("encryption-kms")
    healed.drift("iam-policy-widen")
    config = str(healed.layout.config_file)
    console = CliRunner().invoke(main, ["detect", "-q", "-c", config, "--no-color"])
    assert console.exit_code == 2
    # A changed element of the `rule` set: the one value that moved, with its full path.
    assert '.sse_algorithm: "AES256" → "aws:kms"' in console.stdout, console.stdout
    assert "rule = {" not in console.stdout and "…" not in console.stdout
    # The policy is a JSON document: diffed structurally, never as an escaped string.
    assert "policy (JSON document):" in console.stdout
    assert '\\"' not in console.stdout

    sarif = CliRunner().invoke(main, ["detect", "-q", "-c", config, "-o", "sarif"])
    assert sarif.exit_code == 2
    run = json.loads(sarif.stdout)["runs"][0]
    results = {r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r for r in run["results"]}
    sg = results["module.app.module.network.aws_security_group.web"]
    where = sg["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"].endswith("modules/network/main.tf")
    source = (healed.layout.stack_root / "modules/network/main.tf").read_text().splitlines()
    assert source[where["region"]["startLine"] - 1].startswith('resource "aws_security_group" "web"')
    rules = {r["id"]: r["shortDescription"]["text"] for r in run["tool"]["driver"]["rules"]}
    assert rules[sg["ruleId"]] == "A security group now lets in traffic from the whole internet"
