"""SARIF results point at the resource block's .tf file and line, modules followed; rules carry text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from driftctl.cli import main
from driftctl.detect.engine import Target
from driftctl.detect.locations import SourceLocation, resource_locations
from driftctl.models import (
    AttributeChange,
    ChangeKind,
    DetectReport,
    Finding,
    FindingKind,
    ResourceAddress,
    Severity,
    WorkspaceReport,
)
from driftctl.report.sarif import to_sarif

PLANS = Path(__file__).parents[2] / "fixtures" / "plans"

ROOT_TF = """\
terraform {}

# the bucket
resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

module "net" {
  source = "./modules/net"
}
"""
MODULE_TF = """\
variable "name" {
  default = "web"
}

resource "aws_security_group" "web" {
  name = var.name
}
"""


def _finding(address: str, type_: str, name: str, module: str | None = None) -> Finding:
    return Finding(
        ResourceAddress(address, type_, name, module),
        FindingKind.CHANGED,
        (AttributeChange("tags.a", ChangeKind.ADDED, after="b"),),
        Severity.HIGH,
        "sg-rule-changed",
    )


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ws = tmp_path / "envs" / "prod"
    (ws / "modules" / "net").mkdir(parents=True)
    (ws / "main.tf").write_text(ROOT_TF)
    (ws / "modules" / "net" / "main.tf").write_text(MODULE_TF)
    monkeypatch.chdir(tmp_path)
    return ws


def test_findings_are_located_in_their_file_and_line(workspace: Path) -> None:
    report = DetectReport(
        (
            WorkspaceReport(
                "prod",
                str(workspace),
                findings=(
                    _finding("aws_s3_bucket.logs", "aws_s3_bucket", "logs"),
                    _finding("module.net.aws_security_group.web", "aws_security_group", "web", "module.net"),
                    _finding("aws_instance.gone", "aws_instance", "gone"),  # not in the code
                ),
            ),
        )
    )
    found = resource_locations(report, [Target("prod", path=workspace)])
    assert found == {
        ("prod", "aws_s3_bucket.logs"): SourceLocation("envs/prod/main.tf", 4),
        ("prod", "module.net.aws_security_group.web"): SourceLocation("envs/prod/modules/net/main.tf", 5),
    }
    sarif = to_sarif(report, locations=found)
    by_address = {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r["locations"][0]["physicalLocation"]
        for r in sarif["runs"][0]["results"]
    }
    assert by_address["module.net.aws_security_group.web"] == {
        "artifactLocation": {"uri": "envs/prod/modules/net/main.tf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 5},
    }
    # A resource the code does not declare keeps the workspace directory as its location.
    assert by_address["aws_instance.gone"] == {"artifactLocation": {"uri": workspace.as_uri()}}


def test_plan_file_targets_have_no_source_to_search(workspace: Path) -> None:
    report = DetectReport(
        (
            WorkspaceReport(
                "p", "plan.json", findings=(_finding("aws_s3_bucket.logs", "aws_s3_bucket", "logs"),)
            ),
        )
    )
    assert resource_locations(report, [Target("p", plan_file=Path("plan.json"))]) == {}


def test_sarif_rules_carry_the_severity_rules_own_descriptions() -> None:
    result = CliRunner().invoke(
        main, ["detect", "-q", "--plan-file", str(PLANS / "all_drift_refresh_only.json"), "-o", "sarif"]
    )
    assert result.exit_code == 2
    rules = {
        r["id"]: r["shortDescription"]["text"]
        for r in json.loads(result.stdout)["runs"][0]["tool"]["driver"]["rules"]
    }
    assert rules["sg-open-to-world"] == "A security group now lets in traffic from the whole internet"
    assert rules["resource-deleted"] == "The resource no longer exists"
