"""The benchmark plan generator writes plans the parser reads, with secrets that never get through."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bench.gen_plan import CANARY, expected_counts, generate, render
from driftctl.detect.findings import detect_plan
from driftctl.models import SENSITIVE
from driftctl.terraform.plan import Plan, parse_plan

TOP_LEVEL = [
    "format_version",
    "terraform_version",
    "variables",
    "planned_values",
    "resource_drift",
    "resource_changes",
    "output_changes",
    "prior_state",
    "configuration",
    "relevant_attributes",
    "timestamp",
    "applyable",
    "complete",
    "errored",
]
Small = tuple[dict[str, Any], bytes, Plan]


@pytest.fixture(scope="module")
def small() -> Small:
    doc = generate(resources=60, modules=5, drifted=6, seed=0)
    data = render(doc)
    return doc, data, parse_plan(data, source="small.json")


@pytest.fixture(scope="module")
def drifty() -> tuple[bytes, Plan]:
    # A third of everything drifted: lambdas, databases and secrets drift too, and some are deleted.
    data = render(generate(resources=150, modules=6, drifted=50, seed=3))
    return data, parse_plan(data, source="drifty.json")


def test_writes_every_top_level_key_terraform_writes_on_one_line(small: Small) -> None:
    doc, data, _ = small
    assert list(doc) == TOP_LEVEL
    assert doc["format_version"] == "1.2" and doc["terraform_version"] == "1.15.5"
    assert data.count(b"\n") == 1 and json.loads(data) == doc
    assert b"&" not in data and b"\\u0026" in data  # Go's encoder escapes &, < and >


def test_parser_reads_the_drift_and_the_changes(small: Small) -> None:
    doc, _, plan = small
    drifted, pending = expected_counts(doc)
    assert (drifted, pending) == (6, 5)
    assert len(plan.drift) == 6
    assert len(plan.changes) == drifted + pending  # each drift reverted, plus the code's own changes
    assert len(doc["resource_changes"]) == 61  # 60 managed instances and one deferred data source read
    findings, pending_changes = detect_plan(plan)
    assert len(findings) == drifted  # every drift changes something a user can see
    assert len(pending_changes) == pending


def test_no_canary_reaches_a_parsed_record_or_finding(drifty: tuple[bytes, Plan]) -> None:
    data, plan = drifty
    assert data.count(CANARY.encode()) > 50  # the raw plan is full of them, as real plans are
    values = json.dumps([(r.before, r.after) for r in plan.drift + plan.changes], ensure_ascii=False)
    assert CANARY not in values
    assert SENSITIVE in values
    findings, pending = detect_plan(plan)
    assert CANARY not in repr(findings) + repr(pending)
    assert {f.kind.value for f in findings} == {"changed", "deleted"}
    assert len(findings) == len(plan.drift) == 50


def test_nested_module_addresses_survive_parsing(drifty: tuple[bytes, Plan]) -> None:
    _, plan = drifty
    records = plan.drift + plan.changes
    for r in records:
        a = r.resource
        key = (
            ""
            if a.index is None
            else f"[{a.index}]"
            if isinstance(a.index, int)
            else f"[{json.dumps(a.index)}]"
        )
        assert a.address == f"{a.module + '.' if a.module else ''}{a.type}.{a.name}{key}"
        assert r.provider == "registry.terraform.io/hashicorp/aws"
    modules = {r.resource.module for r in records if r.resource.module}
    assert any(re.fullmatch(r"module\.m\d\d(\[\"\w+\"\])?\.module\.inner", m) for m in modules)
    assert {type(r.resource.index) for r in records} >= {int, str}


def test_same_seed_same_bytes() -> None:
    assert render(generate(40, 3, 4, seed=7)) == render(generate(40, 3, 4, seed=7))
    assert render(generate(40, 3, 4, seed=7)) != render(generate(40, 3, 4, seed=8))
