"""Renders a scenario run: a table, or JSON (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import click
import msgspec

from driftctl.scenarios.results import ScenarioResult

SCHEMA_VERSION = "1"


def scenarios_document(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "scenarios": [asdict(r) for r in results],
    }


def _decision_cell(r: ScenarioResult) -> str:
    outcomes: dict[str, int] = {}
    for d in r.decisions:
        key = d.split(": ", 1)[1] if ": " in d else d
        outcomes[key] = outcomes.get(key, 0) + 1
    return ", ".join(f"{n} {k}" if n > 1 else k for k, n in outcomes.items()) or "-"


def render_scenarios(results: Sequence[ScenarioResult], fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        return msgspec.json.encode(scenarios_document(results)).decode() + "\n"
    rows = [("scenario", "detected", "decision → outcome", "healed", "seconds", "result")]
    for r in results:
        healed = (
            f"{r.healed}/{r.expected_healed}"
            if r.expected_healed
            else ("0" if not r.healed else str(r.healed))
        )
        rows.append(
            (
                r.name,
                str(len(r.detected)),
                _decision_cell(r),
                healed,
                f"{r.seconds:.1f}",
                "pass" if r.passed else "FAIL",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
        if color and n > 0:
            cells[-1] = click.style(cells[-1], fg="green" if row[-1] == "pass" else "red", bold=True)
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for r in results:
        for problem in r.problems:
            lines.append(f"{r.name}: {problem}")
    passed = sum(r.passed for r in results)
    lines.append(f"\n{passed}/{len(results)} scenarios passed")
    return "\n".join(lines) + "\n"
