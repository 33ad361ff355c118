"""Fixtures for end-to-end tests: one real sandbox (moto + real Terraform) per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.sandbox import Sandbox
from driftctl.terraform import embedded_binary, resolve_binary


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox with the sample stack applied, using the embedded Terraform: the offline default,
    and what a fresh machine without a `terraform` on PATH gets."""
    binary = embedded_binary() or resolve_binary()
    sb = Sandbox(SandboxLayout(tmp_path_factory.mktemp("sandbox")), binary=binary)
    sb.up(reattach=False)  # the path a real provider takes: installed from the mirror, started per command
    yield sb
    sb.down()


@pytest.fixture(scope="session")
def sandbox_dir(sandbox: Sandbox) -> Path:
    return sandbox.layout.root


@pytest.fixture(scope="module")
def fast_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox per test module with one long-lived provider that Terraform reattaches to (a plan
    takes ~0.6 s instead of ~3 s): for tests that run many plans. Each module gets its own, so a
    module may drift it, or edit its stack, without touching another module's sandbox."""
    sb = Sandbox(SandboxLayout(tmp_path_factory.mktemp("fast-sandbox")))
    sb.up(reattach=True)
    yield sb
    sb.down()
