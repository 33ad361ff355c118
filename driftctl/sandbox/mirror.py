"""Writes the sandbox provider into a Terraform filesystem mirror, and the CLI config (I/O: files).

Terraform installs ``hashicorp/aws`` from this mirror instead of the registry, so ``init`` works
offline. ``init`` records a hash of the provider script in the lock file, shebang included, so the
mirror is generated per sandbox (per Python interpreter) and the lock is never committed.
"""

from __future__ import annotations

import os
import platform
import stat
import sys
from pathlib import Path

from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.provider import PROVIDER_SOURCE, PROVIDER_VERSION


def terraform_platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def provider_script(python: str) -> str:
    # -S/-E would be faster but would hide the virtualenv; keep the interpreter's normal start-up.
    return f"#!{python}\nfrom driftctl.sandbox.provider import main\n\nmain()\n"


def write_mirror(layout: SandboxLayout, python: str | None = None) -> Path:
    """Write the provider executable into the mirror layout Terraform expects; returns its path."""
    python = python or sys.executable
    target = (
        layout.mirror_dir
        / PROVIDER_SOURCE
        / PROVIDER_VERSION
        / terraform_platform()
        / f"terraform-provider-aws_v{PROVIDER_VERSION}"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    content = provider_script(python)
    if not target.exists() or target.read_text() != content:
        target.write_text(content)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def cli_config_text(mirror_dir: Path) -> str:
    return (
        "# Written by `driftctl sandbox up`: install hashicorp/aws from the local sandbox mirror.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror_dir}"\n'
        f'    include = ["{PROVIDER_SOURCE}"]\n'
        "  }\n"
        "  direct {\n"
        f'    exclude = ["{PROVIDER_SOURCE}"]\n'
        "  }\n"
        "}\n"
    )


def write_cli_config(layout: SandboxLayout) -> Path:
    layout.root.mkdir(parents=True, exist_ok=True)
    layout.cli_config.write_text(cli_config_text(layout.mirror_dir))
    os.chmod(layout.cli_config, 0o644)
    return layout.cli_config
