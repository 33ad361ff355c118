"""The Terraform facade over a scripted fake Runner: command lines built, exit codes interpreted."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from driftctl.errors import StateLockError, TerraformError
from driftctl.terraform import Terraform, TerraformResult


@dataclass
class FakeRunner:
    """A Runner backed by a function from args to (returncode, stdout, stderr); records every call."""

    respond: Callable[[tuple[str, ...]], tuple[int, str, str]]
    calls: list[dict[str, object]] = field(default_factory=list)

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> TerraformResult:
        self.calls.append({"args": tuple(args), "cwd": cwd, "env": env, "timeout": timeout})
        code, out, err = self.respond(tuple(args))
        return TerraformResult(tuple(args), code, out, err, 0.01)

    @property
    def last_args(self) -> tuple[str, ...]:
        args = self.calls[-1]["args"]
        assert isinstance(args, tuple)
        return args


def _terraform(
    code: int = 0,
    out: str = "",
    err: str = "",
    *,
    env: Mapping[str, str] | None = None,
    lock_timeout: str = "0s",
    timeout: float | None = None,
) -> tuple[Terraform, FakeRunner]:
    runner = FakeRunner(lambda args: (code, out, err))
    return Terraform(runner, Path("/ws"), env=env, lock_timeout=lock_timeout, timeout=timeout), runner


def test_calls_go_to_the_working_dir_with_env_and_timeout() -> None:
    tf, runner = _terraform(
        0, '{"terraform_version": "1.15.5"}', env={"AWS_REGION": "eu-west-1"}, timeout=30.0
    )

    assert tf.version() == "1.15.5"
    assert runner.calls == [
        {
            "args": ("version", "-json"),
            "cwd": Path("/ws"),
            "env": {"AWS_REGION": "eu-west-1"},
            "timeout": 30.0,
        }
    ]


def test_plan_builds_the_full_command_line() -> None:
    tf, runner = _terraform(2, lock_timeout="30s")

    outcome = tf.plan(
        out=Path("fix.tfplan"),
        refresh_only=True,
        targets=['module.net.aws_security_group.web["a"]'],
        var_files=["prod.tfvars"],
        variables={"region": "eu-west-1"},
        destroy=True,
        refresh=False,
    )

    assert runner.last_args == (
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        "-lock-timeout=30s",
        "-out=fix.tfplan",
        "-refresh-only",
        "-destroy",
        "-refresh=false",
        '-target=module.net.aws_security_group.web["a"]',
        "-var-file=prod.tfvars",
        "-var=region=eu-west-1",
    )
    assert outcome.changes
    assert outcome.plan_file == Path("/ws/fix.tfplan")


def test_plan_defaults_to_no_lock_wait_and_no_saved_plan() -> None:
    tf, runner = _terraform(0)

    outcome = tf.plan()

    assert runner.last_args == ("plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock-timeout=0s")
    assert not outcome.changes
    assert outcome.plan_file is None


def test_plan_exit_1_raises_with_terraforms_message() -> None:
    tf, _ = _terraform(1, err="\nError: Invalid reference\n\nA resource type must be followed by a name\n")

    with pytest.raises(TerraformError) as caught:
        tf.plan()

    assert caught.value.message == "Error: Invalid reference\n\nA resource type must be followed by a name"
    assert caught.value.returncode == 1


def test_plan_on_a_held_lock_raises_state_lock_error() -> None:
    stderr = "Error: Error acquiring the state lock\n\nLock Info:\n  ID:        42\n  Who:       bob@ci\n"
    tf, _ = _terraform(1, err=stderr)

    with pytest.raises(StateLockError) as caught:
        tf.plan()

    assert (caught.value.lock_id, caught.value.who) == ("42", "bob@ci")


def test_apply_applies_exactly_the_saved_plan() -> None:
    tf, runner = _terraform(0)

    tf.apply(Path("/plans/fix.tfplan"))

    args = runner.last_args
    assert args[0] == "apply"
    assert {"-input=false", "-no-color", "-auto-approve", "-lock-timeout=0s"} <= set(args)
    assert args[-1] == "/plans/fix.tfplan"


def test_init_passes_backend_config_and_upgrade() -> None:
    tf, runner = _terraform(0)

    tf.init(backend_config={"bucket": "state", "key": "a/b"}, upgrade=True)

    assert runner.last_args == (
        "init",
        "-input=false",
        "-no-color",
        "-lock-timeout=0s",
        "-backend-config=bucket=state",
        "-backend-config=key=a/b",
        "-upgrade",
    )


def test_validate_returns_diagnostics_rather_than_raising() -> None:
    out = json.dumps(
        {
            "format_version": "1.0",
            "valid": False,
            "diagnostics": [
                {
                    "severity": "error",
                    "summary": "Invalid expression",
                    "detail": "Expected the start of an expression.",
                    "range": {"filename": "main.tf", "start": {"line": 2, "column": 11}},
                },
                {"severity": "warning", "summary": "Deprecated", "detail": ""},
            ],
        }
    )
    tf, runner = _terraform(1, out)

    result = tf.validate()

    assert runner.last_args == ("validate", "-json", "-no-color")
    assert not result.valid
    assert [d.severity for d in result.diagnostics] == ["error", "warning"]
    assert result.errors[0].filename == "main.tf"
    assert result.errors[0].line == 2
    assert result.message == (
        "Error: Invalid expression\n\n  on main.tf line 2\n\nExpected the start of an expression."
    )


def test_validate_without_json_raises_the_failure() -> None:
    tf, _ = _terraform(1, "", "Error: Unsupported argument\n\nan argument named -json is not expected\n")

    with pytest.raises(TerraformError, match="Unsupported argument"):
        tf.validate()


def test_fmt_check_reports_files_and_treats_exit_3_as_an_answer() -> None:
    tf, runner = _terraform(3, "main.tf\nsub/net.tf\n")

    assert tf.fmt(["main.tf", Path("sub")], check=True, recursive=True) == ["main.tf", "sub/net.tf"]
    assert runner.last_args == ("fmt", "-list=true", "-no-color", "-check", "-recursive", "main.tf", "sub")


def test_fmt_without_check_treats_exit_3_as_a_failure() -> None:
    tf, _ = _terraform(3, "main.tf\n")

    with pytest.raises(TerraformError):
        tf.fmt()


def test_show_json_parses_the_plan() -> None:
    tf, runner = _terraform(0, '{"format_version": "1.2", "resource_changes": []}')

    assert tf.show_json(Path("p.tfplan")) == {"format_version": "1.2", "resource_changes": []}
    assert runner.last_args == ("show", "-json", "-no-color", "p.tfplan")


@pytest.mark.parametrize("out", ["not json", "[1, 2]", ""])
def test_show_json_refuses_anything_but_a_json_object(out: str) -> None:
    tf, _ = _terraform(0, out)

    with pytest.raises(TerraformError, match=r"show -json p\.tfplan"):
        tf.show_json(Path("p.tfplan"))


def test_state_pull_without_state_is_none() -> None:
    tf, runner = _terraform(0, "")

    assert tf.state_pull() is None
    assert runner.last_args == ("state", "pull")


def test_run_accepts_only_the_given_exit_codes() -> None:
    tf, _ = _terraform(2, "x")

    assert tf.run(["plan"], accept=(0, 2)).returncode == 2
    with pytest.raises(TerraformError):
        tf.run(["plan"])
