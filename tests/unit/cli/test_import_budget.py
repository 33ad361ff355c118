"""Each command imports only what it uses: a deterministic guard, not a timing (I/O: subprocesses).

The last start-up regression (the audit group pulling SQLAlchemy into `detect`, 0.6 s → 1.6 s) went
unnoticed because nothing checked it. Each case runs one real command in a fresh interpreter and lists
which heavy packages ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PLAN = FIXTURES / "plans" / "all_drift_refresh_only.json"
FIX = FIXTURES / "fixes" / "adopt_iam_widen.json"

# Packages that cost hundreds of milliseconds to import, or that only some commands need.
HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "openai",
    "boto3",
    "botocore",
    "moto",
    "checkov",
    "apscheduler",
    "starlette",
    "uvicorn",
    "httpx",
    "procrastinate",
    "psycopg",
)

_PROBE = """
import atexit, json, sys
WATCH, OUT = set(json.loads(sys.argv[1])), sys.argv[2]
def _dump():
    with open(OUT, "w") as f:
        json.dump(sorted({m.split(".")[0] for m in sys.modules} & WATCH), f)
atexit.register(_dump)
sys.argv = ["driftctl", *sys.argv[3:]]
from driftctl.cli import main
main()
"""


def heavy_imports(tmp_path: Path, *args: str) -> list[str]:
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY), str(out), *args],
        capture_output=True,
        check=False,
        cwd=tmp_path,
        timeout=120,
    )
    result: list[str] = json.loads(out.read_text())
    return result


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("--help",), ()),
        (("--version",), ()),
        (("detect", "--help"), ()),
        (("reconcile", "--help"), ()),
        (("audit", "--help"), ()),
        (("sandbox", "--help"), ()),
        (("worker", "--help"), ()),
        (("detect", "--plan-file", str(PLAN), "-o", "json"), ()),
        (("detect", "--plan-file", str(PLAN), "-o", "sarif"), ()),
        (("detect", "--plan-file", str(PLAN), "-o", "markdown"), ()),
        (("assess", "--plan-file", str(FIX), "--no-checkov", "-o", "json"), ()),
        # The audit commands need the store, and only the store.
        (("audit", "verify", "--database", "sqlite:///{tmp}/audit.db"), ("sqlalchemy", "sqlmodel")),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) and v and isinstance(v[0], str) else None,
)
def test_command_imports_only_what_it_uses(
    tmp_path: Path, args: tuple[str, ...], allowed: tuple[str, ...]
) -> None:
    args = tuple(a.replace("{tmp}", str(tmp_path)) for a in args)
    loaded = heavy_imports(tmp_path, *args)
    assert [m for m in loaded if m not in allowed] == [], f"`driftctl {' '.join(args)}` imported {loaded}"


def test_the_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    """The guard itself works: a command that does use the store is seen loading SQLAlchemy."""
    loaded = heavy_imports(tmp_path, "audit", "verify", "--database", f"sqlite:///{tmp_path}/a.db")
    assert "sqlalchemy" in loaded
