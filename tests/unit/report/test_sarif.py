"""The SARIF output: a structurally valid 2.1.0 log with stable fingerprints and errors as notifications."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from driftctl.models import AttributeChange, ChangeKind, DetectReport, Severity
from driftctl.report import render

MakeReport = Callable[..., DetectReport]
LEVELS = {"none", "note", "warning", "error"}


def _sarif(report: DetectReport) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(report, "sarif"))
    return log


def check_sarif(log: dict[str, Any]) -> None:
    """The parts of SARIF 2.1.0 that code-scanning uploads reject a log for."""
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert driver["name"] == "driftctl"
        rule_ids = [rule["id"] for rule in driver["rules"]]
        assert len(rule_ids) == len(set(rule_ids))
        assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
        for result in run["results"]:
            assert result["ruleId"] in rule_ids
            assert rule_ids[result["ruleIndex"]] == result["ruleId"]
            assert isinstance(result["message"]["text"], str) and result["message"]["text"]
            assert result["level"] in LEVELS
            for location in result["locations"]:
                assert location["logicalLocations"][0]["kind"] == "resource"
            assert re.fullmatch(r"[0-9a-f]{64}", result["partialFingerprints"]["driftctl/v1"])
        for invocation in run["invocations"]:
            assert isinstance(invocation["executionSuccessful"], bool)
            for note in invocation["toolExecutionNotifications"]:
                assert note["level"] in LEVELS and note["message"]["text"]


def test_rich_and_clean_logs_are_structurally_valid(
    rich_report: DetectReport, clean_report: DetectReport
) -> None:
    check_sarif(_sarif(rich_report))
    check_sarif(_sarif(clean_report))


def test_one_rule_per_severity_rule_and_one_result_per_finding(rich_report: DetectReport) -> None:
    run = _sarif(rich_report)["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "resource-deleted",
        "sensitive-attribute",
        "sg-open-to-world",
        "tags-only",
    ]
    assert run["tool"]["driver"]["version"] == "0.1.0"
    tags = run["results"][-1]
    assert tags["message"]["text"] == (
        'module.app.module.net.aws_instance.web["blue"] changed outside Terraform: tags.env, tags.owner'
    )
    assert tags["locations"][0]["logicalLocations"] == [
        {"fullyQualifiedName": 'module.app.module.net.aws_instance.web["blue"]', "kind": "resource"}
    ]
    assert tags["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "envs/app-prod"
    assert tags["properties"] == {"severity": "info", "kind": "changed", "workspace": "app-prod"}


@pytest.mark.parametrize(
    "severity, level",
    [
        (Severity.CRITICAL, "error"),
        (Severity.HIGH, "error"),
        (Severity.MEDIUM, "warning"),
        (Severity.LOW, "note"),
        (Severity.INFO, "note"),
    ],
)
def test_severity_maps_to_level(make_report: MakeReport, severity: Severity, level: str) -> None:
    change = AttributeChange("x", ChangeKind.MODIFIED, 1, 2)
    assert _sarif(make_report(change, severity=severity))["runs"][0]["results"][0]["level"] == level


def test_fingerprint_is_stable_and_tells_workspaces_and_paths_apart(make_report: MakeReport) -> None:
    a = AttributeChange("a", ChangeKind.MODIFIED, 1, 2)
    b = AttributeChange("b", ChangeKind.MODIFIED, 1, 2)

    def fp(report: DetectReport) -> str:
        return str(_sarif(report)["runs"][0]["results"][0]["partialFingerprints"]["driftctl/v1"])

    base = fp(make_report(a, b))
    assert fp(make_report(b, a)) == base
    assert fp(make_report(AttributeChange("a", ChangeKind.MODIFIED, 3, 4), b)) == base  # values do not count
    assert fp(make_report(a, b, workspace="other")) != base
    assert fp(make_report(a)) != base


def test_errored_workspace_is_a_failed_execution_notification(rich_report: DetectReport) -> None:
    invocation = _sarif(rich_report)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    errors = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["message"]["text"].startswith("workspace shared-network: terraform plan failed: Error:")


def test_clean_run_succeeded_without_notifications(clean_report: DetectReport) -> None:
    run = _sarif(clean_report)["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


def test_artifact_uri_relative_absolute_or_absent(make_report: MakeReport) -> None:
    change = AttributeChange("x", ChangeKind.MODIFIED, 1, 2)

    def location(path: str | None) -> dict[str, Any]:
        loc: dict[str, Any] = _sarif(make_report(change, path=path))["runs"][0]["results"][0]["locations"][0]
        return loc

    assert location("envs/prod")["physicalLocation"]["artifactLocation"] == {
        "uri": "envs/prod",
        "uriBaseId": "%SRCROOT%",
    }
    assert location("/srv/infra/prod")["physicalLocation"]["artifactLocation"] == {
        "uri": "file:///srv/infra/prod"
    }
    assert "physicalLocation" not in location(None)
