"""The error tree: exit codes and rendering."""

from __future__ import annotations

from driftctl.errors import (
    EXIT_DRIFT,
    EXIT_ERROR,
    ConfigError,
    DriftctlError,
    StateLockError,
    TerraformError,
    TerraformTimeoutError,
    UnknownTargetError,
)


def test_every_error_exits_1_and_drift_has_its_own_code() -> None:
    for cls in (DriftctlError, ConfigError, TerraformError, UnknownTargetError, TerraformTimeoutError):
        assert cls("x").exit_code == EXIT_ERROR
    assert EXIT_DRIFT == 2


def test_render_shows_message_then_hint() -> None:
    assert DriftctlError("broken", hint="fix it").render() == "error: broken\nhint: fix it"
    assert DriftctlError("broken").render() == "error: broken"


def test_state_lock_is_retryable_and_keeps_the_holder() -> None:
    err = StateLockError("locked", lock_id="abc", who="ci@runner")
    assert err.retryable and isinstance(err, TerraformError)
    assert (err.lock_id, err.who) == ("abc", "ci@runner")
    assert "force-unlock" in (err.hint or "")
    assert not TerraformError("x").retryable
