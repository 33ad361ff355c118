"""Where driftctl's own data lives: the shipped policies (package data) and, for the sandbox, a checkout.

The policies (``policies/`` at the top of the repository) are the ``driftctl.policies`` package: in a
wheel they sit in ``site-packages/driftctl/policies``, in an editable install setuptools maps the
package to the repository's directory, and both are found with ``importlib.resources``.

The sandbox's sample stack (``terraform/sandbox``, ``modules/``) and its scenarios are developer tools
that are not in the wheel: they are read from a source checkout, and asking for one from an installed
wheel is a ``SandboxError`` that says so. No I/O beyond looking at paths.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from driftctl.errors import DriftctlError, SandboxError

POLICIES_PACKAGE = "driftctl.policies"
SOURCE_ENV = "DRIFTCTL_SOURCE"
_CHECKOUT_MARKERS = ("pyproject.toml", "terraform/sandbox", "modules")


def policies_dir() -> Path:
    """The directory of the shipped policies: Rego files, ``severity.yaml``, ``blast.yaml``..."""
    try:
        root = files(POLICIES_PACKAGE)
    except ModuleNotFoundError:  # an editable install made before policies/ became package data
        raise DriftctlError(
            f"the shipped policies ({POLICIES_PACKAGE}) are not installed",
            hint="reinstall driftctl (`pip install -e .` in a checkout, or `make install`)",
        ) from None
    if not isinstance(root, Path) or not root.is_dir():  # a zip import gives a zipfile.Path
        raise DriftctlError(
            f"the shipped policies ({POLICIES_PACKAGE}) are not a directory on disk: {root}",
            hint="install driftctl as an ordinary (unzipped) package, e.g. `pip install driftctl`",
        )
    return root


def policy_file(name: str) -> Path:
    """One shipped policy file, by name (``severity.yaml``)."""
    return policies_dir() / name


def source_checkout() -> Path | None:
    """The driftctl source checkout: ``$DRIFTCTL_SOURCE``, else the one this package runs from, else None."""
    explicit = os.environ.get(SOURCE_ENV)
    candidates = [Path(explicit)] if explicit else [Path(__file__).resolve().parents[1]]
    for root in candidates:
        if all((root / marker).exists() for marker in _CHECKOUT_MARKERS):
            return root
    return None


def require_source_checkout(what: str) -> Path:
    """The source checkout, or a ``SandboxError`` saying that ``what`` needs one."""
    root = source_checkout()
    if root is not None:
        return root
    explicit = os.environ.get(SOURCE_ENV)
    where = (
        f"{SOURCE_ENV}={explicit} is not one" if explicit else "this driftctl is installed, not run from one"
    )
    raise SandboxError(
        f"{what} needs a driftctl source checkout (terraform/sandbox, modules/, scenarios/); {where}",
        hint=f"clone the driftctl repository and set {SOURCE_ENV} to it, or run driftctl from the clone",
    )
