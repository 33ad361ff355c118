"""Hand-built reports every report test renders: a rich one (drift + an errored workspace) and a clean one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from driftctl.models import (
    SENSITIVE,
    Alert,
    AttributeChange,
    ChangeKind,
    DetectReport,
    Finding,
    FindingKind,
    IgnoredChange,
    PendingChange,
    ResourceAddress,
    Severity,
    WorkspaceReport,
)

AWS = "registry.terraform.io/hashicorp/aws"
GENERATED_AT = "2024-05-01T12:00:00Z"
VERSION = "0.1.0"

OPEN_SSH_RULE = {
    "cidr_blocks": ["0.0.0.0/0"],
    "description": "debug access opened by hand",
    "from_port": 22,
    "ipv6_cidr_blocks": [],
    "prefix_list_ids": [],
    "protocol": "tcp",
    "security_groups": [],
    "self": False,
    "to_port": 22,
}


def _drifted_workspace() -> WorkspaceReport:
    # Built deliberately out of order: the renderers must sort.
    tags = Finding(
        resource=ResourceAddress(
            address='module.app.module.net.aws_instance.web["blue"]',
            type="aws_instance",
            name="web",
            module="module.app.module.net",
            index="blue",
        ),
        kind=FindingKind.CHANGED,
        changes=(
            AttributeChange("tags.owner", ChangeKind.ADDED, after="alice"),
            AttributeChange("tags.env", ChangeKind.MODIFIED, before="prod", after="staging"),
        ),
        severity=Severity.INFO,
        severity_rule="tags-only",
        provider=AWS,
    )
    password = Finding(
        resource=ResourceAddress(
            address="module.app.aws_db_instance.main",
            type="aws_db_instance",
            name="main",
            module="module.app",
        ),
        kind=FindingKind.CHANGED,
        changes=(
            AttributeChange(
                "password", ChangeKind.MODIFIED, before=SENSITIVE, after=SENSITIVE, sensitive=True
            ),
        ),
        severity=Severity.HIGH,
        severity_rule="sensitive-attribute",
        provider=AWS,
    )
    open_sg = Finding(
        resource=ResourceAddress(address="aws_security_group.web", type="aws_security_group", name="web"),
        kind=FindingKind.CHANGED,
        changes=(AttributeChange("ingress", ChangeKind.ADDED, after=OPEN_SSH_RULE),),
        severity=Severity.CRITICAL,
        severity_rule="sg-open-to-world",
        provider=AWS,
    )
    deleted = Finding(
        resource=ResourceAddress(
            address="aws_cloudwatch_log_group.app[0]", type="aws_cloudwatch_log_group", name="app", index=0
        ),
        kind=FindingKind.DELETED,
        changes=(),
        severity=Severity.HIGH,
        severity_rule="resource-deleted",
        provider=AWS,
    )
    return WorkspaceReport(
        workspace="app-prod",
        path="envs/app-prod",
        findings=(tags, password, open_sg, deleted),
        pending=(
            PendingChange(
                resource=ResourceAddress(
                    address="module.app.aws_lambda_function.api",
                    type="aws_lambda_function",
                    name="api",
                    module="module.app",
                ),
                actions=("update",),
                paths=("memory_size", "timeout"),
            ),
        ),
        ignored=(
            IgnoredChange(
                address='module.app.module.net.aws_instance.web["blue"]',
                path="tags.LastScanned",
                rule="module.app.** tags.LastScanned (secops: the scanner writes it)",
            ),
        ),
        alerts=(
            Alert(
                "ignore-unmatched", "ignore rule 'aws_lambda_function.legacy *' matched nothing; remove it?"
            ),
            Alert("ignore-expired", "ignore rule 'aws_instance.* tags.Patch*' expired on 2024-04-01"),
        ),
        terraform_version="1.9.8",
        duration_s=12.3456,
    )


def _failed_workspace() -> WorkspaceReport:
    return WorkspaceReport(
        workspace="shared-network",
        path="envs/shared-network",
        error=(
            "terraform plan failed: Error: configuring Terraform AWS Provider: "
            "no valid credential sources for Terraform AWS Provider found.\n"
            "\n"
            "Please see https://registry.terraform.io/providers/hashicorp/aws for more information."
        ),
        terraform_version="1.9.8",
        duration_s=1.5,
    )


def build_rich_report() -> DetectReport:
    return DetectReport(
        workspaces=(_failed_workspace(), _drifted_workspace()),
        generated_at=GENERATED_AT,
        driftctl_version=VERSION,
    )


def build_clean_report() -> DetectReport:
    return DetectReport(
        workspaces=(
            WorkspaceReport(
                workspace="staging", path="envs/staging", terraform_version="1.9.8", duration_s=4.0
            ),
            WorkspaceReport(workspace="dev", path="envs/dev", terraform_version="1.9.8", duration_s=3.25),
        ),
        generated_at=GENERATED_AT,
        driftctl_version=VERSION,
    )


@pytest.fixture
def rich_report() -> DetectReport:
    return build_rich_report()


@pytest.fixture
def clean_report() -> DetectReport:
    return build_clean_report()


def _one_finding_report(
    *changes: AttributeChange,
    address: str = "aws_instance.web",
    kind: FindingKind = FindingKind.CHANGED,
    severity: Severity = Severity.MEDIUM,
    rule: str = "default",
    workspace: str = "w",
    path: str | None = "envs/w",
    alerts: tuple[Alert, ...] = (),
    ignored: tuple[IgnoredChange, ...] = (),
    error: str | None = None,
) -> DetectReport:
    type_, name = address.split("[", 1)[0].split(".")[-2:]
    finding = Finding(
        resource=ResourceAddress(address=address, type=type_, name=name),
        kind=kind,
        changes=changes,
        severity=severity,
        severity_rule=rule,
        provider=AWS,
    )
    ws = WorkspaceReport(
        workspace=workspace, path=path, findings=(finding,), alerts=alerts, ignored=ignored, error=error
    )
    return DetectReport(workspaces=(ws,), generated_at=GENERATED_AT, driftctl_version=VERSION)


@pytest.fixture
def make_report() -> Callable[..., DetectReport]:
    """A factory for a one-workspace, one-finding report around the given changes."""
    return _one_finding_report
