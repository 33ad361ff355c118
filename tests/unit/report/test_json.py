"""The JSON output: its documented shape, its counts, its order, and that the docs cover every field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftctl.errors import EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR
from driftctl.models import AttributeChange, ChangeKind, DetectReport, Severity
from driftctl.report import SCHEMA_VERSION, render

MakeReport = Callable[..., DetectReport]
DOCS = Path(__file__).parents[3] / "docs" / "detect-output.md"

TOP = ["schema_version", "driftctl_version", "generated_at", "summary", "exit_code", "is_sync", "workspaces"]
SUMMARY = ["workspaces", "clean", "drift", "error", "findings", "by_severity", "pending", "ignored"]
WORKSPACE = ["name", "path", "status", "terraform_version", "duration_s", "error"]
WORKSPACE += ["findings", "pending", "ignored", "alerts"]
FINDING = ["address", "type", "name", "module", "index", "kind", "severity", "severity_rule", "provider"]
FINDING += ["changes"]
CHANGE = ["path", "kind", "before", "after", "sensitive"]
CHANGE_NOTE = [*CHANGE, "note"]  # `note` only where the values cannot show the change
PENDING = ["address", "type", "actions", "paths"]
IGNORED = ["address", "path", "rule"]
ALERT = ["kind", "message"]


def _doc(report: DetectReport) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render(report, "json"))
    return doc


def test_keys_are_exactly_the_documented_ones_in_order(rich_report: DetectReport) -> None:
    doc = _doc(rich_report)
    assert list(doc) == TOP
    assert doc["schema_version"] == SCHEMA_VERSION == "1"
    assert list(doc["summary"]) == SUMMARY
    assert list(doc["summary"]["by_severity"]) == ["critical", "high", "medium", "low", "info"]
    for ws in doc["workspaces"]:
        assert list(ws) == WORKSPACE
        for finding in ws["findings"]:
            assert list(finding) == FINDING
            assert all(list(change) in (CHANGE, CHANGE_NOTE) for change in finding["changes"])
        assert all(list(p) == PENDING for p in ws["pending"])
        assert all(list(i) == IGNORED for i in ws["ignored"])
        assert all(list(a) == ALERT for a in ws["alerts"])


def test_summary_counts_match_the_workspaces(rich_report: DetectReport, clean_report: DetectReport) -> None:
    for report in (rich_report, clean_report):
        doc = _doc(report)
        s, workspaces = doc["summary"], doc["workspaces"]
        findings = [f for ws in workspaces for f in ws["findings"]]
        assert s["workspaces"] == len(workspaces) == s["clean"] + s["drift"] + s["error"]
        for status in ("clean", "drift", "error"):
            assert s[status] == sum(ws["status"] == status for ws in workspaces)
        assert s["findings"] == len(findings) == sum(s["by_severity"].values())
        for severity, n in s["by_severity"].items():
            assert n == sum(f["severity"] == severity for f in findings)
        assert s["pending"] == sum(len(ws["pending"]) for ws in workspaces)
        assert s["ignored"] == sum(len(ws["ignored"]) for ws in workspaces)
        assert doc["is_sync"] == (doc["exit_code"] == EXIT_CLEAN) == (s["drift"] == s["error"] == 0)


def test_exit_code_is_error_then_drift_then_clean(
    rich_report: DetectReport, clean_report: DetectReport, make_report: MakeReport
) -> None:
    assert _doc(rich_report)["exit_code"] == EXIT_ERROR
    assert _doc(make_report(AttributeChange("x", ChangeKind.MODIFIED, 1, 2)))["exit_code"] == EXIT_DRIFT
    assert _doc(clean_report)["exit_code"] == EXIT_CLEAN


def test_workspaces_by_name_findings_worst_first_changes_by_path(rich_report: DetectReport) -> None:
    doc = _doc(rich_report)
    assert [ws["name"] for ws in doc["workspaces"]] == ["app-prod", "shared-network"]
    findings = doc["workspaces"][0]["findings"]
    ranks = [Severity(f["severity"]).rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
    assert [f["address"] for f in findings if f["severity"] == "high"] == [
        "aws_cloudwatch_log_group.app[0]",
        "module.app.aws_db_instance.main",
    ]
    assert [c["path"] for c in findings[-1]["changes"]] == ["tags.env", "tags.owner"]


def test_indexes_sort_naturally(make_report: MakeReport) -> None:
    changes = [AttributeChange(f"ingress[{i}].from_port", ChangeKind.MODIFIED, 1, 2) for i in (10, 2, 1)]
    paths = [c["path"] for c in _doc(make_report(*changes))["workspaces"][0]["findings"][0]["changes"]]
    assert paths == ["ingress[1].from_port", "ingress[2].from_port", "ingress[10].from_port"]


def test_values_stay_json_values_with_sorted_keys(make_report: MakeReport) -> None:
    change = AttributeChange("rule", ChangeKind.ADDED, after={"to_port": 22, "cidr_blocks": ("0.0.0.0/0",)})
    out = render(make_report(change), "json")
    after = json.loads(out)["workspaces"][0]["findings"][0]["changes"][0]["after"]
    assert after == {"cidr_blocks": ["0.0.0.0/0"], "to_port": 22}
    assert list(after) == ["cidr_blocks", "to_port"]


def test_index_keeps_its_json_type(rich_report: DetectReport) -> None:
    findings = _doc(rich_report)["workspaces"][0]["findings"]
    assert {f["address"]: f["index"] for f in findings if f["index"] is not None} == {
        "aws_cloudwatch_log_group.app[0]": 0,
        'module.app.module.net.aws_instance.web["blue"]': "blue",
    }


def test_every_field_is_documented() -> None:
    documented = set(re.findall(r"`([a-z_$]+)`", DOCS.read_text(encoding="utf-8")))
    fields = {*TOP, *SUMMARY, *WORKSPACE, *FINDING, *CHANGE_NOTE, *PENDING, *IGNORED, *ALERT}
    assert fields <= documented, f"undocumented in {DOCS.name}: {sorted(fields - documented)}"
