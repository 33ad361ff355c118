"""`driftctl detect --plan-file`: exit codes, formats, masking, bad input (no Terraform needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.cli import main

PLANS = Path(__file__).parents[1] / "fixtures" / "plans"
CANARY = "CANARY-7f3a9c"


def detect(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["detect", "--quiet", *args])
    return result.exit_code, result.stdout, result.stderr


def test_drift_exits_2_and_json_lists_every_finding() -> None:
    code, out, _ = detect("--plan-file", str(PLANS / "all_drift_refresh_only.json"), "-o", "json")
    assert code == 2
    data = json.loads(out)
    assert data["schema_version"] == "1"
    ws = data["workspaces"][0]
    assert ws["status"] == "drift"
    by_address = {f["address"]: f for f in ws["findings"]}
    assert len(by_address) == 10
    sg = by_address["module.app.module.network.aws_security_group.web"]
    assert sg["severity"] == "critical" and sg["severity_rule"]
    assert by_address["module.app.aws_sqs_queue.jobs[1]"]["kind"] == "deleted"
    tag = by_address['module.storage["logs"].aws_s3_bucket.this']
    assert tag["severity"] == "low"
    assert [c["path"] for c in tag["changes"]] == ["tags.owner"]


def test_clean_plan_exits_0() -> None:
    code, out, _ = detect("--plan-file", str(PLANS / "clean_refresh_only.json"), "-o", "json")
    assert code == 0
    assert json.loads(out)["workspaces"][0]["status"] == "clean"


def test_pending_code_change_is_not_drift() -> None:
    code, out, _ = detect("--plan-file", str(PLANS / "pending_code_only.json"), "-o", "json")
    ws = json.loads(out)["workspaces"][0]
    assert code == 0, "a code change alone is not drift"
    assert ws["findings"] == []
    assert [p["address"] for p in ws["pending"]] == ["module.app.aws_cloudwatch_log_group.app"]


@pytest.mark.parametrize("fmt", ["console", "json", "markdown", "sarif"])
def test_sensitive_canary_never_reaches_any_format(fmt: str, tmp_path: Path) -> None:
    assert CANARY in (PLANS / "all_drift_normal.json").read_text()
    out_file = tmp_path / f"report.{fmt}"
    code, out, err = detect(
        "--plan-file", str(PLANS / "all_drift_normal.json"), "-o", fmt, "--out", str(out_file)
    )
    assert code == 2
    assert CANARY not in out + err + out_file.read_text()


def test_ignore_on_the_command_line() -> None:
    code, out, _ = detect(
        "--plan-file",
        str(PLANS / "pending_and_drift_refresh_only.json"),
        "-o",
        "json",
        "--ignore",
        "module.app.aws_instance.web[*]:instance_type",
    )
    ws = json.loads(out)["workspaces"][0]
    assert code == 0
    assert ws["findings"] == []
    assert ws["ignored"] and ws["ignored"][0]["path"] == "instance_type"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format_version": "1.2", "resource_drift": [{"addr', "invalid JSON"),
        (b'{"format_version": "7.0"}', "unsupported format_version"),
        (b'{"resource_changes": []}', "format_version"),
    ],
)
def test_bad_plan_files_exit_1_with_a_clear_message(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    code, out, _ = detect("--plan-file", str(bad), "-o", "json")
    assert code == 1
    ws = json.loads(out)["workspaces"][0]
    assert ws["status"] == "error"
    assert str(bad) in ws["error"] and message in ws["error"]


def test_one_bad_plan_does_not_hide_a_good_one(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    code, out, _ = detect(
        "--plan-file", str(bad), "--plan-file", str(PLANS / "all_drift_refresh_only.json"), "-o", "json"
    )
    statuses = {w["name"]: w["status"] for w in json.loads(out)["workspaces"]}
    assert code == 1
    assert statuses == {"broken": "error", "all_drift_refresh_only": "drift"}


def test_console_error_has_no_traceback(tmp_path: Path) -> None:
    code, out, err = detect("--plan-file", str(tmp_path / "nope.json"))
    assert code == 1
    assert "no such file" in out + err
    assert "Traceback" not in out + err


def test_a_50mb_plan_is_read(tmp_path: Path) -> None:
    plan = json.loads((PLANS / "all_drift_refresh_only.json").read_text())
    plan["prior_state"]["padding"] = "x" * (50 * 1024 * 1024)
    big = tmp_path / "big.json"
    big.write_text(json.dumps(plan))
    code, out, _ = detect("--plan-file", str(big), "-o", "json")
    assert code == 2
    assert len(json.loads(out)["workspaces"][0]["findings"]) == 10


def test_names_and_plan_files_together_is_an_error() -> None:
    code, _, err = detect("prod", "--plan-file", str(PLANS / "clean_refresh_only.json"))
    assert code == 1 and "not both" in err


def test_broken_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "driftctl.yaml"
    config.write_text("version: 1\nworkspaces:\n  - name: a\n    path: .\n    mode: yolo\n")
    code, _, err = detect("-c", str(config))
    assert code == 1
    assert "driftctl.yaml:5" in err and "mode" in err
    assert "Traceback" not in err
