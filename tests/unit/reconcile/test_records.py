"""Stored proposals: their own versioned schema, round-tripped without any renderer (no I/O)."""

from __future__ import annotations

import json

import pytest

from driftctl.errors import ConfigError
from driftctl.models import (
    Assessment,
    AttributeChange,
    ChangeKind,
    Decision,
    DecisionKind,
    Draft,
    FileEdit,
    Finding,
    FindingKind,
    Proposal,
    ResourceAddress,
    Severity,
    Strategy,
    Verification,
)
from driftctl.reconcile.records import SCHEMA_VERSION, decode, encode, to_edits, to_proposal, to_record

ADDR = 'module.app.aws_cloudwatch_log_group.app["x"]'
EDIT = FileEdit("modules/app/main.tf", "tags = {}\n", 'tags = { owner = "alice" }\n')


def proposal() -> Proposal:
    finding = Finding(
        ResourceAddress(ADDR, "aws_cloudwatch_log_group", "app", "module.app", "x"),
        FindingKind.CHANGED,
        (AttributeChange("tags.owner", ChangeKind.ADDED, None, "alice"),),
        Severity.LOW,
        "tags",
    )
    return Proposal(
        finding,
        Draft(ADDR, Strategy.ADOPT, "rules", (EDIT,), "adopt the tag", 0.9, ("a note",)),
        Verification(True, "plans no change", ((ADDR, ("update",)),), "cd" * 32, 2),
        Assessment(0.05, 0.9, warnings=("tags only",)),
        Decision(DecisionKind.AUTO_APPLY, ("confident",)),
    )


def test_a_record_round_trips_and_carries_its_version() -> None:
    text = encode(to_record(proposal()))
    data = json.loads(text)
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert "diff" not in text  # the edit is stored as texts, not as a renderer's diff
    record = decode(text, "p1")
    assert to_edits(record) == (EDIT,)
    back = to_proposal(record)
    original = proposal()
    assert back.finding == original.finding
    assert back.draft == original.draft
    assert back.verification == original.verification
    assert (record.risk, record.confidence, record.warnings) == (0.05, 0.9, ("tags only",))
    assert record.decision is not None and record.decision.kind == "auto_apply"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"finding": {"address": "a", "kind": "changed"}, "proposal": {"edits": []}}', "no schema_version"),
        ('{"schema_version": 99}', "version 99"),
        ("{nope", "not JSON"),
        ('{"schema_version": 1, "finding": {"address": "a"}, "strategy": "adopt"}', "malformed"),
    ],
)
def test_a_record_we_cannot_read_is_a_clear_error_naming_the_proposal(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as info:
        decode(text, "abc123")
    assert "abc123" in info.value.message


def test_a_stored_record_is_what_front_doors_show() -> None:
    # A PR comment shows the stored record (never a renderer's document): the diff, the verification.
    from driftctl.audit.tables import ProposalRow
    from driftctl.forge.templates import ProposalView

    record = to_record(proposal())
    assert record.diff == EDIT.diff() and '+tags = { owner = "alice" }' in record.diff
    row = ProposalRow(
        id="p1",
        run_id="r",
        workspace="ws",
        address=ADDR,
        strategy="adopt",
        status="pending",
        data=encode(record),
    )
    view = ProposalView.from_row(row)
    assert view.diff == record.diff
    assert view.verification == "verified: plans no change"
    assert view.changes == (("tags.owner", None, "alice"),)
    assert view.decision == ("confident",)
