"""Turning Terraform's stderr into the error tree, on output captured from Terraform 1.11 and 1.15."""

from __future__ import annotations

import pytest

from driftctl.errors import StateLockError, TerraformError
from driftctl.terraform import (
    TerraformResult,
    clean_output,
    diagnostic_message,
    error_from_result,
    parse_lock_info,
    with_lock_retry,
)

# `terraform plan -no-color -lock-timeout=0s` while another apply held the local state lock.
LOCK_NO_COLOR = """
Error: Error acquiring the state lock

Error message: resource temporarily unavailable
Lock Info:
  ID:        80c08c1c-cc9e-3639-6110-f6566dc25d00
  Path:      terraform.tfstate
  Operation: OperationTypeApply
  Who:       root@vm
  Version:   1.15.5
  Created:   2026-11-29 18:45:33.886797164 +0000 UTC
  Info:


Terraform acquires a state lock to protect the state from being written
by multiple users at the same time. Please resolve the issue above and try
again. For most commands, you can disable locking with the "-lock=false"
flag, but this is not recommended.
"""

# The same without -no-color: ANSI codes and the box Terraform draws around a diagnostic.
LOCK_BOXED = (
    "\x1b[31m╷\x1b[0m\x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m"
    "\x1b[1mError acquiring the state lock\x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0m\x1b[0mError message: resource temporarily unavailable\n"
    "\x1b[31m│\x1b[0m \x1b[0mLock Info:\n"
    "\x1b[31m│\x1b[0m \x1b[0m  ID:        80c08c1c-cc9e-3639-6110-f6566dc25d00\n"
    "\x1b[31m│\x1b[0m \x1b[0m  Path:      terraform.tfstate\n"
    "\x1b[31m│\x1b[0m \x1b[0m  Who:       ci@runner-7\n"
    "\x1b[31m│\x1b[0m \x1b[0m\n"
    "\x1b[31m│\x1b[0m \x1b[0mTerraform acquires a state lock to protect the state from being written\n"
    "\x1b[31m╵\x1b[0m\x1b[0m\n"
)

# `terraform validate -no-color` on two bad references, after the warning this machine's
# TF_CLI_CONFIG_FILE causes.
TWO_ERRORS_AFTER_A_WARNING = """There are some problems with the CLI configuration:

Warning: Unable to open CLI configuration file

The CLI configuration file at "/root/.terraformrc" does not exist.


Error: Reference to undeclared input variable

  on main.tf line 2, in resource "terraform_data" "x":
   2:   input = var.nope

An input variable with the name "nope" has not been declared. This variable
can be declared with a variable "nope" {} block.

Error: Reference to undeclared local value

  on main.tf line 5, in resource "terraform_data" "y":
   5:   input = local.nope

A local value with the name "nope" has not been declared.
"""


def _failed(stderr: str, stdout: str = "", args: tuple[str, ...] = ("plan",)) -> TerraformResult:
    return TerraformResult(args=args, returncode=1, stdout=stdout, stderr=stderr, duration_s=0.1)


@pytest.mark.parametrize("stderr", [LOCK_NO_COLOR, LOCK_BOXED], ids=["no-color", "boxed"])
def test_held_lock_becomes_state_lock_error(stderr: str) -> None:
    error = error_from_result(_failed(stderr))

    assert isinstance(error, StateLockError)
    assert error.retryable
    assert error.lock_id == "80c08c1c-cc9e-3639-6110-f6566dc25d00"
    assert error.who in ("root@vm", "ci@runner-7")
    assert error.message.startswith("Error: Error acquiring the state lock\n\nError message:")
    assert error.stderr == stderr
    assert error.returncode == 1
    assert error.command == ("terraform", "plan")


def test_older_lock_wording_is_recognised() -> None:
    stderr = (
        "Error: Error locking state: Error acquiring the state lock: ConditionalCheckFailedException\n"
        "Lock Info:\n  ID:        3f1a\n  Path:      bucket/key\n  Who:       alice@laptop\n"
    )

    error = error_from_result(_failed(stderr))

    assert isinstance(error, StateLockError)
    assert (error.lock_id, error.who) == ("3f1a", "alice@laptop")


def test_lock_failure_without_lock_info_is_not_retryable() -> None:
    # The backend refused (e.g. access denied): nobody holds the lock, so waiting would not help.
    stderr = "Error: Error acquiring the state lock\n\nError message: AccessDeniedException: no\n"

    error = error_from_result(_failed(stderr))

    assert type(error) is TerraformError
    assert not error.retryable


def test_message_has_no_colour_codes_or_box_characters() -> None:
    message = error_from_result(_failed(LOCK_BOXED)).message

    for junk in ("\x1b", "╷", "│", "╵"):
        assert junk not in message
    assert "  ID:        80c08c1c" in message  # the indentation inside the box is kept


def test_every_error_is_kept_and_warnings_are_dropped() -> None:
    message = error_from_result(_failed(TWO_ERRORS_AFTER_A_WARNING)).message

    assert message.startswith("Error: Reference to undeclared input variable\n\n  on main.tf line 2")
    assert 'can be declared with a variable "nope" {} block.' in message
    assert "\n\nError: Reference to undeclared local value\n" in message
    assert message.endswith('A local value with the name "nope" has not been declared.')
    assert "Warning" not in message
    assert "CLI configuration" not in message


def test_output_without_diagnostics_is_reported_as_is() -> None:
    stderr = 'Terraform has no command named "nonsense".\n\nTo see all of Terraform\'s top-level commands\n'

    message = error_from_result(_failed(stderr, args=("nonsense",))).message

    assert message.startswith('Terraform has no command named "nonsense".')


def test_silent_failure_names_the_command_and_exit_code() -> None:
    message = error_from_result(_failed("", args=("apply", "p.tfplan"))).message

    assert message == "`terraform apply p.tfplan` exited with code 1 and printed no diagnostics"


def test_diagnostics_on_stdout_are_used_when_stderr_has_none() -> None:
    message = error_from_result(_failed("", stdout="Error: Boom\n\nit went boom\n")).message

    assert message == "Error: Boom\n\nit went boom"


def test_clean_output_strips_box_prefixes() -> None:
    assert clean_output("╷\n│ Error: x\n│\n│ detail\n╵\n") == "\nError: x\n\ndetail\n"


def test_diagnostic_message_is_empty_without_errors() -> None:
    assert diagnostic_message("Warning: only a warning\n\nnothing else\n") == ""


def test_parse_lock_info_does_not_let_an_empty_field_swallow_the_next_line() -> None:
    text = "Lock Info:\n  ID:        abc\n  Who:       \n  Version:   1.15.5\n"

    assert parse_lock_info(text) == ("abc", None)


def test_parse_lock_info_without_a_section() -> None:
    assert parse_lock_info("Error: something else\n") == (None, None)


class _Flaky:
    """Raises StateLockError ``failures`` times, then returns "done"."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise StateLockError("locked", lock_id=f"id-{self.calls}")
        return "done"


def test_lock_retry_backs_off_exponentially_until_it_succeeds() -> None:
    slept: list[float] = []
    flaky = _Flaky(failures=3)

    result = with_lock_retry(flaky, attempts=5, base_delay=1.0, sleep=slept.append, jitter=lambda: 1.0)

    assert result == "done"
    assert flaky.calls == 4
    assert slept == [1.0, 2.0, 4.0]


def test_lock_retry_jitter_stays_within_half_to_full_delay() -> None:
    slept: list[float] = []

    with_lock_retry(_Flaky(failures=2), attempts=3, base_delay=2.0, sleep=slept.append, jitter=lambda: 0.0)

    assert slept == [1.0, 2.0]


def test_lock_retry_caps_the_delay() -> None:
    slept: list[float] = []

    with_lock_retry(
        _Flaky(failures=4), attempts=5, base_delay=1.0, max_delay=3.0, sleep=slept.append, jitter=lambda: 1.0
    )

    assert slept == [1.0, 2.0, 3.0, 3.0]


def test_lock_retry_reraises_the_last_error() -> None:
    slept: list[float] = []
    flaky = _Flaky(failures=10)

    with pytest.raises(StateLockError) as caught:
        with_lock_retry(flaky, attempts=3, base_delay=0.5, sleep=slept.append)

    assert flaky.calls == 3
    assert caught.value.lock_id == "id-3"
    assert len(slept) == 2


def test_lock_retry_does_not_retry_other_errors() -> None:
    calls = 0

    def broken() -> None:
        nonlocal calls
        calls += 1
        raise TerraformError("Error: Invalid expression")

    with pytest.raises(TerraformError, match="Invalid expression"):
        with_lock_retry(broken, attempts=5, sleep=lambda _: None)
    assert calls == 1


def test_lock_retry_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        with_lock_retry(lambda: None, attempts=0)
