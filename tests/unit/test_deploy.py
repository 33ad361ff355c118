"""deploy/: the systemd units pass `systemd-analyze verify` (when present) and say what docs/service.md
promises; the crontab line and the Dockerfile run commands that exist."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.config import check_cron

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
HARDENING = {
    "User": "driftctl",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/driftctl",
    "KillMode": "mixed",
}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DEPLOY / "systemd" / name)
    return parser


def localised(tmp_path: Path) -> list[Path]:
    """The units with ExecStart pointing at this venv's driftctl (verify checks the binary exists)."""
    driftctl = Path(sys.executable).with_name("driftctl")
    out = []
    for path in UNITS:
        copy = tmp_path / path.name
        copy.write_text(path.read_text().replace("/opt/driftctl/bin/driftctl", str(driftctl)))
        out.append(copy)
    return out


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_every_unit_without_a_warning(tmp_path: Path) -> None:
    units = localised(tmp_path)
    proc = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_catches_a_misspelt_key(tmp_path: Path) -> None:
    # The check above can fail: a typo in a hardening key is reported, not silently ignored.
    (service,) = [u for u in localised(tmp_path) if u.name == "driftctl.service"]
    service.write_text(service.read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(service)], capture_output=True, text=True, check=False
    )
    assert "Unknown key" in proc.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_service_unit_exposure_is_ok(tmp_path: Path) -> None:
    (service,) = [u for u in localised(tmp_path) if u.name == "driftctl.service"]
    proc = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(service)],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Overall exposure level for driftctl.service: ([0-9.]+)", proc.stdout + proc.stderr)
    assert match is not None, proc.stdout + proc.stderr
    assert float(match[1]) <= 4.0  # systemd's scale: 0 safest, 10 unprotected


@pytest.mark.parametrize("name", ["driftctl.service", "driftctl-reconcile.service"])
def test_services_are_hardened_and_non_root(name: str) -> None:
    service = unit(name)["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == value, key
    assert service["ExecStart"].startswith("/opt/driftctl/bin/driftctl ")


def test_the_long_running_service_restarts_reloads_and_outwaits_the_stop_grace() -> None:
    service = unit("driftctl.service")["Service"]
    assert service["Restart"] == "on-failure"
    assert "serve" in service["ExecStart"] and service["ExecReload"].endswith("-HUP $MAINPID")
    assert int(service["TimeoutStopSec"]) > 600  # the default service.stop_grace


def test_the_timer_is_persistent_and_spread() -> None:
    timer = unit("driftctl-reconcile.timer")["Timer"]
    assert timer["Persistent"] == "true" and int(timer["RandomizedDelaySec"]) > 0
    assert timer["Unit"] == "driftctl-reconcile.service"
    oneshot = unit("driftctl-reconcile.service")["Service"]
    assert oneshot["Type"] == "oneshot" and oneshot["SuccessExitStatus"].split() == ["3"]


def test_the_crontab_line_is_a_valid_schedule_running_real_options() -> None:
    lines = [ln for ln in (DEPLOY / "cron" / "driftctl").read_text().splitlines() if re.match(r"^[\d*]", ln)]
    (line,) = lines
    fields = line.split(None, 6)
    assert check_cron(" ".join(fields[:5]))
    assert fields[5] == "driftctl"  # /etc/cron.d format: the user
    argv = fields[6].split(" reconcile ", 1)[1].split(">>")[0].split()
    result = CliRunner().invoke(main, ["reconcile", *argv, "--help"])
    assert result.exit_code == 0, result.output


def test_the_dockerfile_runs_serve_as_a_non_root_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER driftctl$", text, re.M)
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd is not None
    import json

    args = json.loads(cmd[1])
    assert args[0] == "serve"
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "HEALTHCHECK" in text and "/healthz" in text
