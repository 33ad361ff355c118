"""A built wheel, installed in a fresh venv outside the repository, assesses and detects with its policies.

The wheel is built from a copy of the sources the wheel is made of (so a file it silently depends on
elsewhere in the checkout is caught, and the checkout gets no build/ litter). The fresh venv gets the
wheel with ``--no-deps``; its dependencies come from this test run's own site-packages through a
``.pth`` line (a path added that way is not a site dir, so the editable install's finder there is not
loaded: ``driftctl`` can only come from the wheel, which the test checks). Offline, ~30 s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "tests" / "fixtures" / "plans"
SG = "module.app.module.network.aws_security_group.web"
POLICY = "module.app.aws_iam_role_policy.app"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` directory of a fresh venv holding only the wheel (plus a path to its dependencies)."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("driftctl", "policies"):
        shutil.copytree(REPO / part, src / part, ignore=ignore)
    for part in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / part, src / part)
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], cwd=root)
    (wheel,) = dist.glob("driftctl-*.whl")

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        cwd=root,
    )
    purelib = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=root)
    )
    (purelib / "_driftctl_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv / "bin"


def _run(argv: list[str], cwd: Path) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{argv}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout.strip()


def _driftctl(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DRIFTCTL_", "VIRTUAL_ENV"))}
    env.update(XDG_CACHE_HOME=str(cwd / "cache"), HOME=str(cwd))  # no severity cache from another build
    return subprocess.run(
        [str(bin_dir / "driftctl"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    assert not tmp_path.resolve().is_relative_to(REPO)
    return tmp_path


def test_the_wheel_carries_the_policies_and_imports_from_the_venv(installed: Path, outside: Path) -> None:
    code = (
        "import json, driftctl, driftctl.shipped as s; "
        "print(json.dumps([driftctl.__file__, str(s.policies_dir()), str(s.source_checkout())]))"
    )
    done = subprocess.run(
        [str(installed / "python"), "-c", code], cwd=outside, capture_output=True, text=True, check=True
    )
    module, policies, checkout = json.loads(done.stdout)
    venv = installed.parent
    assert Path(module).is_relative_to(venv) and Path(policies).is_relative_to(venv)
    shipped = {p.name for p in Path(policies).iterdir()}
    assert {"severity.yaml", "blast.yaml", "checkov_severity.yaml", "weights.json", "network.rego"} <= shipped
    assert checkout == "None"  # an installed wheel is not a source checkout


def test_assess_from_the_wheel_denies_with_a_shipped_policy(installed: Path, outside: Path) -> None:
    plan = json.loads((PLANS / "all_drift_normal.json").read_text())
    plan["resource_changes"] = [rc for rc in plan["resource_changes"] if rc["address"] == SG]
    change: dict[str, Any] = plan["resource_changes"][0]["change"]
    change["before"], change["after"] = change["after"], change["before"]  # the "fix" opens SSH to the world
    plan_file = outside / "open-ssh.json"
    plan_file.write_text(json.dumps(plan))

    done = _driftctl(
        installed, outside, "assess", "--plan-file", str(plan_file), "--no-checkov", "-o", "json"
    )

    assert done.returncode == 2, done.stdout + done.stderr  # blocked by a deny
    report = json.loads(done.stdout)
    text = json.dumps(report)
    assert f"[sg-admin-port-open] {SG}: newly allows port 22 from 0.0.0.0/0" in text
    assert any("site-packages/driftctl/policies/network.rego" in p for p in report["policies"])


def test_detect_from_the_wheel_grades_with_the_shipped_severity_rules(installed: Path, outside: Path) -> None:
    plan_file = outside / "plan.json"
    shutil.copy2(PLANS / "all_drift_normal.json", plan_file)

    done = _driftctl(installed, outside, "detect", "--plan-file", str(plan_file), "-q", "-o", "json")

    assert done.returncode == 2, done.stdout + done.stderr  # drift
    (ws,) = json.loads(done.stdout)["workspaces"]
    graded = {f["address"]: (f["severity"], f["severity_rule"]) for f in ws["findings"]}
    assert graded[SG] == ("critical", "sg-open-to-world")
    assert graded[POLICY] == ("critical", "iam-wildcard-grant")


def test_the_sandbox_from_the_wheel_says_it_needs_a_checkout(installed: Path, outside: Path) -> None:
    done = _driftctl(installed, outside, "scenarios", "list")
    assert done.returncode == 1
    assert "needs a driftctl source checkout" in done.stderr and "DRIFTCTL_SOURCE" in done.stderr
    assert "Traceback" not in done.stderr


def test_checkov_from_the_wheel_is_looked_up_on_path_and_missing_is_a_clear_error(
    installed: Path, outside: Path
) -> None:
    plan_file = outside / "plan.json"
    shutil.copy2(PLANS / "all_drift_normal.json", plan_file)
    done = subprocess.run(
        [str(installed / "driftctl"), "assess", "--plan-file", str(plan_file)],
        cwd=outside,
        env={"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(outside)},  # no .venv-checkov, no checkov
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no checkov found" in done.stderr and "DRIFTCTL_CHECKOV" in done.stderr
    assert "Traceback" not in done.stderr
