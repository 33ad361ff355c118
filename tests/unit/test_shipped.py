"""Where driftctl finds its shipped policies and, for the sandbox, a source checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftctl.assess.blast import SHIPPED_WEIGHTS
from driftctl.assess.rego import SHIPPED_POLICIES
from driftctl.detect.severity import SHIPPED_POLICY
from driftctl.errors import DriftctlError, SandboxError
from driftctl.shipped import SOURCE_ENV, policies_dir, policy_file, require_source_checkout, source_checkout

REPO = Path(__file__).resolve().parents[2]


def test_the_policies_package_is_the_top_level_policies_directory_in_a_checkout() -> None:
    # An editable install maps driftctl.policies onto policies/: one copy, found by importlib.resources.
    assert policies_dir() == REPO / "policies"
    assert policy_file("severity.yaml") == SHIPPED_POLICY
    assert SHIPPED_WEIGHTS == REPO / "policies" / "blast.yaml" and SHIPPED_POLICIES == REPO / "policies"


def test_the_checkout_is_found_next_to_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOURCE_ENV, raising=False)
    assert source_checkout() == REPO
    assert require_source_checkout("the sample stack") == REPO


def test_an_explicit_checkout_is_used_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SOURCE_ENV, str(REPO))
    assert source_checkout() == REPO
    monkeypatch.setenv(SOURCE_ENV, str(tmp_path))
    assert source_checkout() is None
    with pytest.raises(SandboxError) as err:
        require_source_checkout("the sample stack")
    assert f"{SOURCE_ENV}={tmp_path} is not one" in err.value.message
    assert err.value.hint and "clone the driftctl repository" in err.value.hint


def test_a_stale_install_without_the_policies_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import driftctl.shipped

    monkeypatch.setattr(driftctl.shipped, "POLICIES_PACKAGE", "driftctl.no_such_policies")
    with pytest.raises(DriftctlError) as err:
        policies_dir()
    assert "not installed" in err.value.message and err.value.hint and "pip install -e ." in err.value.hint
