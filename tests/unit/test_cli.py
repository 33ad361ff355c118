"""The CLI's surface: help that explains, doctor, JSON output, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.cli import main


def test_help_explains_exit_codes_and_lists_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "0 clean, 2 drift found" in result.output and "usage errors" in result.output
    for command in ("doctor", "sandbox"):
        assert command in result.output


def test_sandbox_help_lists_subcommands() -> None:
    result = CliRunner().invoke(main, ["sandbox", "--help"])
    assert result.exit_code == 0
    for command in ("up", "down", "drift", "status", "env", "mutations", "plan"):
        assert command in result.output


def test_mutations_json_lists_types() -> None:
    result = CliRunner().invoke(main, ["sandbox", "mutations", "-o", "json"])
    data = json.loads(result.output)
    by_name = {m["name"]: m for m in data}
    assert by_name["sg-open-world"]["types"] == ["aws_security_group"]
    assert len(data) >= 10


def test_doctor_json_names_the_terraform_it_would_use() -> None:
    result = CliRunner().invoke(main, ["doctor", "-o", "json"])
    data = json.loads(result.output)
    checks = {c["name"]: c for c in data["checks"]}
    assert result.exit_code == 0, result.output
    assert checks["terraform"]["ok"] is True
    assert "terraform" in checks["terraform"]["detail"]
    assert checks["sandbox provider"]["ok"] is True


def test_doctor_with_a_missing_configured_binary_fails_and_says_which(
    tmp_path: pytest.TempPathFactory,
) -> None:
    missing = "/nonexistent/terraform"
    result = CliRunner().invoke(main, ["doctor", "--terraform", missing])
    assert result.exit_code == 1
    assert missing in result.output
    assert "MISS" in result.output


def test_propose_with_llm_but_no_endpoint_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRIFTCTL_LLM_BASE_URL", raising=False)
    (tmp_path / "main.tf").write_text("")
    result = CliRunner().invoke(main, ["propose", str(tmp_path), "--drafter", "llm"])
    assert result.exit_code == 1
    assert "DRIFTCTL_LLM_BASE_URL" in result.output
    assert "Traceback" not in result.output


def test_propose_help_explains_strategies() -> None:
    result = CliRunner().invoke(main, ["propose", "--help"])
    assert result.exit_code == 0
    for word in ("revert", "adopt", "verified", "--drafter", "--address"):
        assert word in result.output
