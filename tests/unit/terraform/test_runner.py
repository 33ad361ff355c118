"""SubprocessRunner against small shell scripts standing in for Terraform: env, exit codes, timeouts."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from driftctl.errors import ConfigError, TerraformNotFoundError, TerraformTimeoutError
from driftctl.terraform import Runner, SubprocessRunner, TerraformBinary


def _script(tmp_path: Path, body: str, name: str = "fake-terraform") -> TerraformBinary:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return TerraformBinary((str(path),), "configured", "terraform")


def _env_of(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def _is_gone(pid: int) -> bool:
    """True once ``pid`` has exited; a zombie waiting for a reaper counts as exited."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_result_carries_args_exit_code_and_both_streams(tmp_path: Path) -> None:
    binary = _script(tmp_path, 'echo "out $*"\necho "err" >&2\nexit 7\n')
    runner: Runner = SubprocessRunner(binary)

    result = runner.run(["plan", "-no-color"], cwd=tmp_path)

    assert result.args == ("plan", "-no-color")
    assert result.returncode == 7  # a failing exit is returned, not raised
    assert result.stdout == "out plan -no-color\n"
    assert result.stderr == "err\n"
    assert result.duration_s >= 0


def test_runs_in_the_given_directory_with_no_stdin(tmp_path: Path) -> None:
    workdir = tmp_path / "ws"
    workdir.mkdir()
    # `cat` would block forever on an inherited terminal; with /dev/null it ends at once.
    binary = _script(tmp_path, "pwd\ncat\n")

    result = SubprocessRunner(binary).run([], cwd=workdir, timeout=20)

    assert result.stdout == f"{workdir}\n"


def test_automation_variables_are_always_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_INPUT", "1")
    binary = _script(tmp_path, "env\n")

    env = _env_of(SubprocessRunner(binary, base_env={"TF_IN_AUTOMATION": ""}).run([], cwd=tmp_path).stdout)

    assert env["TF_IN_AUTOMATION"] == "1"
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert env["TF_INPUT"] == "0"


def test_env_layers_process_then_base_then_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYER_A", "process")
    monkeypatch.setenv("LAYER_B", "process")
    monkeypatch.setenv("LAYER_C", "process")
    binary = _script(tmp_path, "env\n")
    runner = SubprocessRunner(binary, base_env={"LAYER_B": "base", "LAYER_C": "base"})

    env = _env_of(runner.run([], cwd=tmp_path, env={"LAYER_C": "call"}).stdout)

    assert (env["LAYER_A"], env["LAYER_B"], env["LAYER_C"]) == ("process", "base", "call")


def test_missing_cli_config_file_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "no-such.tfrc"))
    binary = _script(tmp_path, "env\n")

    env = _env_of(SubprocessRunner(binary).run([], cwd=tmp_path).stdout)

    assert env["TF_CLI_CONFIG_FILE"] == os.devnull


def test_existing_cli_config_file_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "cli.tfrc"
    config.write_text("")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", "/does/not/exist")
    binary = _script(tmp_path, "env\n")

    env = _env_of(
        SubprocessRunner(binary).run([], cwd=tmp_path, env={"TF_CLI_CONFIG_FILE": str(config)}).stdout
    )

    assert env["TF_CLI_CONFIG_FILE"] == str(config)


def test_relative_cli_config_file_is_checked_against_the_working_dir(tmp_path: Path) -> None:
    workdir = tmp_path / "ws"
    workdir.mkdir()
    (workdir / "cli.tfrc").write_text("")
    binary = _script(tmp_path, "env\n")

    env = _env_of(
        SubprocessRunner(binary).run([], cwd=workdir, env={"TF_CLI_CONFIG_FILE": "cli.tfrc"}).stdout
    )

    assert env["TF_CLI_CONFIG_FILE"] == "cli.tfrc"


def test_hung_command_is_killed_with_its_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    # Like terraform with a provider plugin: a child that outlives a plain kill of the parent.
    binary = _script(tmp_path, f'sleep 60 &\necho "$! $$" > "{pid_file}"\nsleep 60\n')
    runner = SubprocessRunner(binary, default_timeout=60)

    started = time.monotonic()
    with pytest.raises(TerraformTimeoutError) as caught:
        runner.run(["apply"], cwd=tmp_path, timeout=1.0)
    elapsed = time.monotonic() - started

    assert elapsed < 30, "the timeout did not interrupt the command"
    assert binary.command[0] in caught.value.message
    assert "apply" in caught.value.message
    assert "1 s" in caught.value.message
    assert caught.value.command == (*binary.command, "apply")
    child, parent = (int(pid) for pid in pid_file.read_text().split())
    deadline = time.monotonic() + 10
    while not (_is_gone(child) and _is_gone(parent)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _is_gone(parent), "the script itself survived the timeout"
    assert _is_gone(child), "a child in the process group survived the timeout"


def test_default_timeout_applies_when_none_is_given(tmp_path: Path) -> None:
    binary = _script(tmp_path, "sleep 60\n")

    with pytest.raises(TerraformTimeoutError, match=r"0\.5 s"):
        SubprocessRunner(binary, default_timeout=0.5).run(["plan"], cwd=tmp_path)


def test_binary_missing_at_exec_time(tmp_path: Path) -> None:
    missing = tmp_path / "vanished" / "terraform"
    runner = SubprocessRunner(TerraformBinary((str(missing),), "configured", "terraform"))

    with pytest.raises(TerraformNotFoundError) as caught:
        runner.run(["version"], cwd=tmp_path)

    assert str(missing) in caught.value.message


def test_binary_not_executable_at_exec_time(tmp_path: Path) -> None:
    plain = tmp_path / "terraform"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)

    with pytest.raises(TerraformNotFoundError, match="cannot execute"):
        SubprocessRunner(TerraformBinary((str(plain),), "env", "terraform")).run(["version"], cwd=tmp_path)


def test_missing_working_directory_is_a_config_error(tmp_path: Path) -> None:
    binary = _script(tmp_path, "exit 0\n")

    with pytest.raises(ConfigError, match="does not exist"):
        SubprocessRunner(binary).run(["plan"], cwd=tmp_path / "nope")
