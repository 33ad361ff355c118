"""Which Terraform gets run: configured path, $DRIFTCTL_TERRAFORM, PATH, then the embedded one."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from driftctl.errors import TerraformError, TerraformNotFoundError
from driftctl.terraform import (
    TerraformBinary,
    TerraformResult,
    available_binaries,
    embedded_binary,
    parse_version,
    resolve_binary,
    terraform_version,
)


def _fake_tool(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\necho fake\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $DRIFTCTL_TERRAFORM and a PATH holding one empty directory, which the test may fill."""
    monkeypatch.delenv("DRIFTCTL_TERRAFORM", raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_configured_path_that_does_not_exist_names_the_path(clean_env: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "terraform"
    _fake_tool(clean_env, "terraform")  # present on PATH, yet must not be used instead

    with pytest.raises(TerraformNotFoundError) as caught:
        resolve_binary(missing)

    assert str(missing) in caught.value.message
    assert "configured" in caught.value.message
    assert "does not exist" in caught.value.message


def test_configured_path_that_is_not_executable_is_refused(clean_env: Path, tmp_path: Path) -> None:
    plain = tmp_path / "terraform"
    plain.write_text("not a program")
    plain.chmod(0o644)

    with pytest.raises(TerraformNotFoundError, match="not an executable file"):
        resolve_binary(plain)


def test_env_var_pointing_nowhere_is_an_error_not_a_fall_through(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone" / "tofu"
    monkeypatch.setenv("DRIFTCTL_TERRAFORM", str(missing))
    _fake_tool(clean_env, "terraform")

    with pytest.raises(TerraformNotFoundError) as caught:
        resolve_binary()

    assert str(missing) in caught.value.message
    assert "$DRIFTCTL_TERRAFORM" in caught.value.message


def test_configured_path_wins_over_env_and_path(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = _fake_tool(tmp_path / "cfg", "terraform")
    monkeypatch.setenv("DRIFTCTL_TERRAFORM", str(_fake_tool(tmp_path / "env", "terraform")))
    _fake_tool(clean_env, "terraform")

    found = resolve_binary(configured)

    assert found == TerraformBinary((str(configured),), "configured", "terraform")


def test_env_var_wins_over_path(clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_env = _fake_tool(tmp_path / "env", "tofu")
    monkeypatch.setenv("DRIFTCTL_TERRAFORM", str(from_env))
    _fake_tool(clean_env, "terraform")

    assert resolve_binary() == TerraformBinary((str(from_env),), "env", "tofu")


def test_empty_env_var_counts_as_unset(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTCTL_TERRAFORM", "")
    on_path = _fake_tool(clean_env, "terraform")

    assert resolve_binary().command == (str(on_path),)


def test_terraform_on_path_is_preferred_to_tofu(clean_env: Path) -> None:
    terraform = _fake_tool(clean_env, "terraform")
    _fake_tool(clean_env, "tofu")

    assert resolve_binary() == TerraformBinary((str(terraform),), "path", "terraform")


def test_tofu_on_path_is_used_when_terraform_is_not(clean_env: Path) -> None:
    tofu = _fake_tool(clean_env, "tofu")

    assert resolve_binary() == TerraformBinary((str(tofu),), "path", "tofu")


def test_embedded_is_the_last_resort(clean_env: Path) -> None:
    found = resolve_binary()

    assert found.source == "embedded"
    assert found.flavor == "terraform"
    assert found == embedded_binary()


def test_embedded_prefers_the_console_script_beside_python(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    script = _fake_tool(venv_bin, "driftctl-terraform")
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))

    assert resolve_binary().command == (str(script),)


def test_embedded_falls_back_to_python_dash_m(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = tmp_path / "bare" / "python"
    monkeypatch.setattr(sys, "executable", str(python))

    assert resolve_binary().command == (str(python), "-m", "driftctl.terraform.embedded")


def test_nothing_at_all_is_an_error(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    assert embedded_binary() is None
    with pytest.raises(TerraformNotFoundError, match="no Terraform found"):
        resolve_binary()


def test_a_bare_configured_name_is_looked_up_on_path(clean_env: Path) -> None:
    tofu = _fake_tool(clean_env, "tofu")

    assert resolve_binary("tofu") == TerraformBinary((str(tofu),), "configured", "tofu")
    with pytest.raises(TerraformNotFoundError, match="not on PATH"):
        resolve_binary("terraform")


def test_a_relative_configured_path_becomes_absolute(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runner starts Terraform from the workspace, where a relative path would point elsewhere.
    tool = _fake_tool(tmp_path / "tools", "terraform")
    monkeypatch.chdir(tmp_path)

    found = resolve_binary(os.path.join("tools", "terraform"))

    assert found.command == (str(tool),)
    assert Path(found.command[0]).is_absolute()


def test_available_binaries_lists_every_source_in_order(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = _fake_tool(tmp_path / "cfg", "terraform")
    from_env = _fake_tool(tmp_path / "env", "tofu")
    monkeypatch.setenv("DRIFTCTL_TERRAFORM", str(from_env))
    terraform = _fake_tool(clean_env, "terraform")
    tofu = _fake_tool(clean_env, "tofu")

    found = available_binaries(configured)

    assert [(b.source, b.command[0]) for b in found] == [
        ("configured", str(configured)),
        ("env", str(from_env)),
        ("path", str(terraform)),
        ("path", str(tofu)),
        ("embedded", found[-1].command[0]),
    ]


def test_available_binaries_skips_broken_explicit_ones_and_duplicates(
    clean_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terraform = _fake_tool(clean_env, "terraform")
    monkeypatch.setenv("DRIFTCTL_TERRAFORM", str(tmp_path / "missing"))

    found = available_binaries(terraform)

    assert [b.source for b in found] == ["configured", "embedded"]


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        ('{"terraform_version": "1.15.5", "platform": "linux_amd64"}', "1.15.5"),
        ("Terraform v1.11.4\non linux_amd64\n", "1.11.4"),
        ("OpenTofu v1.8.2\non linux_amd64\n", "1.8.2"),
    ],
)
def test_parse_version(stdout: str, expected: str) -> None:
    assert parse_version(stdout) == expected


def test_parse_version_refuses_garbage() -> None:
    with pytest.raises(TerraformError, match="could not read a version"):
        parse_version("hello")


class _CannedRunner:
    def __init__(self, result: TerraformResult) -> None:
        self.result = result
        self.calls: list[tuple[str, ...]] = []

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> TerraformResult:
        self.calls.append(tuple(args))
        return self.result


def test_terraform_version_runs_version_json(tmp_path: Path) -> None:
    runner = _CannedRunner(
        TerraformResult(("version", "-json"), 0, '{"terraform_version": "9.9.9"}', "", 0.1)
    )
    binary = TerraformBinary(("terraform",), "path", "terraform")

    assert terraform_version(binary, runner, cwd=tmp_path) == "9.9.9"
    assert runner.calls == [("version", "-json")]


def test_terraform_version_raises_on_failure(tmp_path: Path) -> None:
    runner = _CannedRunner(TerraformResult(("version", "-json"), 1, "", "Error: broken\n\nit broke\n", 0.1))
    binary = TerraformBinary(("terraform",), "path", "terraform")

    with pytest.raises(TerraformError, match="Error: broken"):
        terraform_version(binary, runner, cwd=tmp_path)
