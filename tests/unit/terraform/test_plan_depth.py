"""A deeply nested plan is one clear error in every output format, never a RecursionError (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.errors import PlanFormatError
from driftctl.terraform.plan import TOO_DEEP, parse_plan


def _nested(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth


def _plan(depth: int, *, in_drift: bool = True) -> str:
    if not in_drift:  # deep where the decoder only skips (planned_values)
        return f'{{"format_version": "1.2", "planned_values": {_nested(depth, "1")}, "resource_drift": []}}'
    change = {"actions": ["update"], "before": {"x": "B"}, "after": {"x": "A"}}
    entry = {"address": "aws_s3_bucket.b", "type": "aws_s3_bucket", "name": "b", "change": change}
    text = json.dumps({"format_version": "1.2", "resource_drift": [entry]})
    return text.replace('"B"', _nested(depth, "1")).replace('"A"', _nested(depth, "2"))


@pytest.mark.parametrize("in_drift", [True, False])
@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_parse_plan_names_the_file_and_the_problem(depth: int, in_drift: bool) -> None:
    with pytest.raises(PlanFormatError) as err:
        parse_plan(_plan(depth, in_drift=in_drift), source="deep.json")
    assert err.value.message == f"deep.json: {TOO_DEEP}"


def test_a_plan_a_few_hundred_levels_deep_is_still_read() -> None:
    plan = parse_plan(_plan(300))
    assert [r.resource.address for r in plan.drift] == ["aws_s3_bucket.b"]


@pytest.mark.parametrize("fmt", ["console", "json", "markdown", "sarif"])
@pytest.mark.parametrize("depth", [300, 20_000])
def test_detect_plan_file_in_every_format(tmp_path: Path, fmt: str, depth: int) -> None:
    plan_file = tmp_path / "deep.json"
    plan_file.write_text(_plan(depth))
    result = CliRunner().invoke(main, ["detect", "--quiet", "--plan-file", str(plan_file), "-o", fmt])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    if depth == 300:
        assert result.exit_code == 2, result.output  # deep but readable: the drift is reported
        return
    assert result.exit_code == 1, result.output
    if fmt == "json":
        (ws,) = json.loads(result.stdout)["workspaces"]
        assert ws["error"] == f"{plan_file}: {TOO_DEEP}"
    else:
        assert TOO_DEEP in result.stdout


@pytest.mark.parametrize("fmt", ["console", "json", "markdown", "sarif"])
def test_near_the_interpreter_limit_it_is_drift_or_the_clear_error(tmp_path: Path, fmt: str) -> None:
    # Where exactly Python's recursion limit bites depends on the stack: every depth around it must
    # end as drift (2) or the clear error (1), never as an exception.
    plan_file = tmp_path / "deep.json"
    for depth in range(880, 1_041, 20):
        plan_file.write_text(_plan(depth))
        result = CliRunner().invoke(main, ["detect", "--quiet", "--plan-file", str(plan_file), "-o", fmt])
        assert isinstance(result.exception, SystemExit), (depth, result.exception)
        assert result.exit_code == 2 or (result.exit_code == 1 and TOO_DEEP in result.stdout), depth
