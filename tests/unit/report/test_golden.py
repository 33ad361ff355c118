"""Golden files pin every format for the rich and the clean report.

Regenerate after an intended change with ``DRIFTCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/report``
and review the diff of ``tests/unit/report/golden/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driftctl.models import DetectReport
from driftctl.report import FORMATS, render

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DRIFTCTL_UPDATE_GOLDEN", "") not in ("", "0")
SUFFIX = {"console": "console.txt", "json": "json", "markdown": "md", "sarif": "sarif.json"}


def test_every_format_has_a_golden_suffix() -> None:
    assert set(SUFFIX) == set(FORMATS)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["rich", "clean"])
def test_output_matches_golden_file(name: str, fmt: str, request: pytest.FixtureRequest) -> None:
    report: DetectReport = request.getfixturevalue(f"{name}_report")
    actual = render(report, fmt)  # the console golden is the no-colour rendering
    golden = GOLDEN / f"{name}.{SUFFIX[fmt]}"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8", newline="\n")
    assert golden.exists(), f"{golden} is missing; create it with DRIFTCTL_UPDATE_GOLDEN=1"
    expected = golden.read_text(encoding="utf-8")
    assert actual == expected, f"{golden.name} differs; if intended, regenerate with DRIFTCTL_UPDATE_GOLDEN=1"
