"""Pins the public API of driftctl.terraform so a change to it is deliberate."""

from __future__ import annotations

import driftctl.terraform as terraform_api


def test_public_api_is_pinned() -> None:
    assert sorted(terraform_api.__all__) == [
        "AUTOMATION_ENV",
        "Diagnostic",
        "ENV_VAR",
        "Flavor",
        "PlanOutcome",
        "Runner",
        "Source",
        "SubprocessRunner",
        "Terraform",
        "TerraformBinary",
        "TerraformResult",
        "ValidateResult",
        "available_binaries",
        "clean_output",
        "diagnostic_message",
        "embedded_binary",
        "error_from_result",
        "parse_lock_info",
        "parse_version",
        "resolve_binary",
        "terraform_version",
        "with_lock_retry",
    ]
    for name in terraform_api.__all__:
        assert hasattr(terraform_api, name), name
