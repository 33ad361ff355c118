"""The SARIF 2.1.0 output, for code-scanning dashboards: one result per finding (no I/O)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Protocol

from driftctl.models import DetectReport, Finding, FindingKind, Severity, WorkspaceReport
from driftctl.report.json import canonical, natural_key

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT = "driftctl/v1"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


class Located(Protocol):
    """A source position: ``file`` relative to the repository root (or absolute), ``line`` 1-based."""

    @property
    def file(self) -> str: ...

    @property
    def line(self) -> int: ...


Locations = Mapping[tuple[str, str], Located]  # (workspace, address) → where the resource is declared


def fingerprint(workspace: str, finding: Finding) -> str:
    """Stable across runs while the same resource drifts on the same paths (so dashboards dedupe)."""
    parts = [workspace, finding.address, *sorted(c.path for c in finding.changes)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _uri(path: str) -> dict[str, str]:
    # A relative path is relative to the repository root; an absolute one can only be a file: URI.
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": pure.as_uri()}
    return {"uri": pure.as_posix(), "uriBaseId": "%SRCROOT%"}


def _message(finding: Finding) -> str:
    if finding.kind is FindingKind.DELETED:
        return f"{finding.address} was deleted outside Terraform"
    paths = ", ".join(f"{c.path} (sensitive value)" if c.sensitive else c.path for c in finding.changes)
    return f"{finding.address} changed outside Terraform: {paths}"


def _location(
    ws: WorkspaceReport, address: str | None = None, source: Located | None = None
) -> dict[str, Any]:
    location: dict[str, Any] = {}
    if source is not None:
        location["physicalLocation"] = {
            "artifactLocation": _uri(source.file),
            "region": {"startLine": source.line},
        }
    elif ws.path:
        location["physicalLocation"] = {"artifactLocation": _uri(ws.path)}
    if address is not None:
        location["logicalLocations"] = [{"fullyQualifiedName": address, "kind": "resource"}]
    return location


def _result(ws: WorkspaceReport, finding: Finding, rule_index: int, source: Located | None) -> dict[str, Any]:
    return {
        "ruleId": finding.severity_rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [_location(ws, finding.address, source)],
        "partialFingerprints": {FINGERPRINT: fingerprint(ws.workspace, finding)},
        "properties": {
            "severity": finding.severity.value,
            "kind": finding.kind.value,
            "workspace": ws.workspace,
        },
    }


def _notifications(report: DetectReport) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    for ws in report.workspaces:
        where = [_location(ws)] if ws.path else []
        if ws.error is not None:
            notes.append(
                {
                    "level": "error",
                    "message": {"text": f"workspace {ws.workspace}: {ws.error}"},
                    "locations": where,
                    "properties": {"workspace": ws.workspace},
                }
            )
        notes += [
            {
                "level": "warning",
                "message": {"text": f"workspace {ws.workspace}: {a.kind}: {a.message}"},
                "locations": where,
                "properties": {"workspace": ws.workspace, "alert": a.kind},
            }
            for a in ws.alerts
        ]
    return notes


def to_sarif(
    report: DetectReport,
    *,
    locations: Locations | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The SARIF log as Python data. ``locations`` put a result on its resource block's file and line
    (else on the workspace directory); ``descriptions`` (severity rule id → its description) become
    the rules' text."""
    report = canonical(report)
    locations = locations or {}
    descriptions = descriptions or {}
    rule_ids = sorted({f.severity_rule for ws in report.workspaces for f in ws.findings}, key=natural_key)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    driver: dict[str, Any] = {"name": "driftctl"}
    if report.driftctl_version:
        driver["version"] = report.driftctl_version
    driver["rules"] = [
        {
            "id": rule_id,
            "name": rule_id,
            "shortDescription": {
                "text": descriptions.get(rule_id)
                or f"Drift classified by the driftctl severity rule {rule_id!r}"
            },
        }
        for rule_id in rule_ids
    ]
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [
            {
                "executionSuccessful": all(ws.error is None for ws in report.workspaces),
                "toolExecutionNotifications": _notifications(report),
            }
        ],
        "results": [
            _result(ws, f, index[f.severity_rule], locations.get((ws.workspace, f.address)))
            for ws in report.workspaces
            for f in ws.findings
        ],
    }
    if report.generated_at:
        run["properties"] = {"generated_at": report.generated_at}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


class SarifOutput:
    """`--output sarif`: SARIF 2.1.0 for GitHub code scanning and similar dashboards."""

    def render(
        self,
        report: DetectReport,
        *,
        color: bool = False,
        locations: Locations | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> str:
        sarif = to_sarif(report, locations=locations, descriptions=descriptions)
        return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
