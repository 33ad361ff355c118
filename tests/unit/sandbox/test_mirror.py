"""The provider mirror and CLI config Terraform installs hashicorp/aws from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftctl.sandbox.layout import SandboxLayout, terraform_env
from driftctl.sandbox.mirror import cli_config_text, terraform_platform, write_cli_config, write_mirror
from driftctl.sandbox.provider import PROVIDER_VERSION


def test_mirror_has_terraforms_layout_and_an_executable_script(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path)
    script = write_mirror(layout, python="/opt/py/bin/python3")
    expected = (
        tmp_path
        / "mirror/registry.terraform.io/hashicorp/aws"
        / PROVIDER_VERSION
        / terraform_platform()
        / f"terraform-provider-aws_v{PROVIDER_VERSION}"
    )
    assert script == expected
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/opt/py/bin/python3\n")
    assert "driftctl.sandbox.provider" in script.read_text()


def test_cli_config_only_mirrors_aws(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path)
    path = write_cli_config(layout)
    text = path.read_text()
    assert text == cli_config_text(layout.mirror_dir)
    assert f'path    = "{layout.mirror_dir}"' in text
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in text


def test_env_points_at_the_sandbox_and_away_from_real_aws_config(tmp_path: Path) -> None:
    env = terraform_env(SandboxLayout(tmp_path), "http://127.0.0.1:9")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "terraform.rc")
    assert env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull


def test_layout_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCTL_SANDBOX_DIR", str(tmp_path / "from-env"))
    assert SandboxLayout.resolve().root == tmp_path / "from-env"
    assert SandboxLayout.resolve(tmp_path / "explicit").root == tmp_path / "explicit"
    monkeypatch.delenv("DRIFTCTL_SANDBOX_DIR")
    monkeypatch.chdir(tmp_path)
    assert SandboxLayout.resolve().root == tmp_path / ".driftctl" / "sandbox"
