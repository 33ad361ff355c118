"""The rules drafter's strategy choice and rationale, and refusals that need a human."""

from __future__ import annotations

from pathlib import Path

from driftctl.draft.rules import RulesDrafter, preferred_strategy, rationale, summarize
from driftctl.models import (
    AttributeChange,
    ChangeKind,
    Finding,
    FindingKind,
    ResourceAddress,
    Severity,
    Strategy,
)

SG = ResourceAddress("aws_security_group.web", "aws_security_group", "web")


def finding(severity: Severity, kind: FindingKind = FindingKind.CHANGED) -> Finding:
    changes = (
        () if kind is FindingKind.DELETED else (AttributeChange("tags.owner", ChangeKind.ADDED, None, "bob"),)
    )
    return Finding(SG, kind, changes, severity, "rule-x")


def test_security_drift_reverts_benign_drift_adopts() -> None:
    assert preferred_strategy(finding(Severity.CRITICAL)) is Strategy.REVERT
    assert preferred_strategy(finding(Severity.MEDIUM)) is Strategy.REVERT
    assert preferred_strategy(finding(Severity.LOW)) is Strategy.ADOPT
    assert preferred_strategy(finding(Severity.LOW, FindingKind.DELETED)) is Strategy.REVERT


def test_rationale_says_what_how_and_why() -> None:
    text = rationale(finding(Severity.CRITICAL), Strategy.REVERT)
    assert "aws_security_group.web drifted (critical, rule rule-x): tags.owner added." in text
    assert "targeted plan" in text and "security-relevant" in text
    assert "matches reality" in rationale(finding(Severity.LOW), Strategy.ADOPT)
    assert summarize(finding(Severity.LOW, FindingKind.DELETED)) == "the object was deleted outside Terraform"


def test_revert_needs_no_code(tmp_path: Path) -> None:
    draft = RulesDrafter().draft(finding(Severity.HIGH), tmp_path)
    assert (draft.strategy, draft.edits, draft.needs_human) == (Strategy.REVERT, (), None)
    assert 0.85 <= draft.confidence <= 1


def test_adopting_a_deletion_is_never_drafted(tmp_path: Path) -> None:
    draft = RulesDrafter().draft(finding(Severity.LOW, FindingKind.DELETED), tmp_path, Strategy.ADOPT)
    assert draft.needs_human and "deleting its code" in draft.needs_human


def test_adopt_where_the_resource_cannot_be_found_needs_a_human(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "other" {\n  bucket = "x"\n}\n')
    draft = RulesDrafter().draft(finding(Severity.LOW), tmp_path, Strategy.ADOPT)
    assert draft.needs_human and "aws_security_group.web" in draft.needs_human
    assert draft.edits == ()


def test_adopt_edits_a_literal_tag(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        '# keep me\nresource "aws_security_group" "web" {\n'
        '  name = "web"\n  tags = {\n    env = "dev"\n  }\n}\n'
    )
    draft = RulesDrafter().draft(finding(Severity.LOW), tmp_path)
    assert draft.strategy is Strategy.ADOPT and draft.needs_human is None
    (edit,) = draft.edits
    assert edit.path == "main.tf"
    assert edit.after.startswith("# keep me\n")
    assert 'owner = "bob"' in edit.after and "+" in edit.diff()
