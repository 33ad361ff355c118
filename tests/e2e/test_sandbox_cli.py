"""`driftctl sandbox …` through the CLI runner, against the session's real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.sandbox.sandbox import Sandbox
from driftctl.sandbox.server import running_server

pytestmark = pytest.mark.slow


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_status_reports_running_sandbox(sandbox_dir: Path) -> None:
    code, out, _ = invoke("sandbox", "status", "--dir", str(sandbox_dir), "-o", "json")
    data = json.loads(out)
    assert code == 0
    assert data["running"] is True
    assert data["endpoint"].startswith("http://127.0.0.1:")
    assert 'module.app.aws_instance.web["blue"]' in data["resources"]


def test_up_again_is_idempotent(sandbox: Sandbox, sandbox_dir: Path) -> None:
    before = running_server(sandbox.layout)
    code, out, _ = invoke("sandbox", "up", "--no-reattach", "--dir", str(sandbox_dir), "-o", "json")
    data = json.loads(out)
    assert code == 0, out
    assert data["server_started"] is False
    assert before is not None and data["pid"] == before.pid
    assert data["changed"] is False  # nothing re-applied
    assert len(data["resources"]) == 16


def test_unknown_mutation_lists_the_known_ones(sandbox_dir: Path) -> None:
    code, _, err = invoke("sandbox", "drift", "melt-the-datacenter", "--dir", str(sandbox_dir))
    assert code == 1
    assert "unknown mutation 'melt-the-datacenter'" in err
    assert "sg-open-world" in err and "versioning-suspend" in err
    assert "Traceback" not in err


def test_missing_address_lists_what_exists(sandbox_dir: Path) -> None:
    code, _, err = invoke(
        "sandbox",
        "drift",
        "instance-type",
        "--address",
        'module.app.aws_instance.web["red"]',
        "--dir",
        str(sandbox_dir),
    )
    assert code == 1
    assert 'module.app.aws_instance.web["red"] is not in the sandbox state' in err
    assert 'module.app.aws_instance.web["blue"]' in err and 'module.app.aws_instance.web["green"]' in err


def test_wrong_type_address_is_refused(sandbox_dir: Path) -> None:
    code, _, err = invoke(
        "sandbox",
        "drift",
        "queue-delete",
        "--address",
        "module.app.aws_iam_role.app",
        "--dir",
        str(sandbox_dir),
    )
    assert code == 1
    assert "is a aws_iam_role" in err and "module.app.aws_sqs_queue.jobs[0]" in err


def test_bad_set_parameter(sandbox_dir: Path) -> None:
    code, _, err = invoke("sandbox", "drift", "tag", "--set", "novalue", "--dir", str(sandbox_dir))
    assert code == 1 and "KEY=VALUE" in err


def test_env_exports_point_terraform_at_the_sandbox(sandbox_dir: Path) -> None:
    code, out, _ = invoke("sandbox", "env", "--dir", str(sandbox_dir))
    assert code == 0
    assert f"export TF_CLI_CONFIG_FILE={sandbox_dir / 'terraform.rc'}" in out
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in out


def test_provider_refuses_a_non_loopback_endpoint(sandbox: Sandbox) -> None:
    from driftctl.errors import TerraformError

    tf = sandbox.terraform()
    tf.env = {**tf.env, "AWS_ENDPOINT_URL": "https://s3.amazonaws.com"}
    with pytest.raises(TerraformError) as info:
        tf.plan(refresh_only=True)
    assert "refuses to run" in info.value.message
    assert "not a loopback address" in info.value.message


def test_status_of_a_missing_sandbox_exits_1(tmp_path: Path) -> None:
    code, out, _ = invoke("sandbox", "status", "--dir", str(tmp_path / "none"))
    assert code == 1 and "not running" in out


def test_drift_without_a_sandbox_says_how_to_start_one(tmp_path: Path) -> None:
    code, _, err = invoke("sandbox", "drift", "tag", "--dir", str(tmp_path / "none"))
    assert code == 1 and "driftctl sandbox up" in err


def test_sandbox_plan_exit_codes_follow_drift(sandbox: Sandbox, sandbox_dir: Path) -> None:
    code, out, _ = invoke("sandbox", "plan", "--dir", str(sandbox_dir))
    assert code == 0, out
    sandbox.drift("queue-visibility", address="module.app.aws_sqs_queue.jobs[0]", params={"seconds": "7"})
    try:
        code, out, _ = invoke("sandbox", "plan", "--dir", str(sandbox_dir))
        assert code == 2
        assert "visibility_timeout_seconds = 60 -> 7" in out
    finally:
        sandbox.drift(
            "queue-visibility", address="module.app.aws_sqs_queue.jobs[0]", params={"seconds": "60"}
        )


def test_the_same_drift_twice_is_one_clear_error(sandbox: Sandbox, sandbox_dir: Path) -> None:
    args = ("sandbox", "drift", "sg-open-world", "--set", "port=4444", "--dir", str(sandbox_dir))
    code, _, err = invoke(*args)
    assert code == 0, err
    try:
        code, _, err = invoke(*args)
        assert code == 1
        assert "this drift is already in place" in err and "InvalidPermission.Duplicate" in err
        assert "Traceback" not in err and "botocore" not in err
    finally:
        group = sandbox.resources()["module.app.module.network.aws_security_group.web"].attributes["id"]
        sandbox.clients()("ec2").revoke_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 4444, "ToPort": 4444, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        )
