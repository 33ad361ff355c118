"""A proposal's rationale never contradicts its outcome: an adopt is proposed even when the gate allows."""

from __future__ import annotations

from driftctl.models import (
    Assessment,
    AttributeChange,
    ChangeKind,
    Decision,
    DecisionKind,
    Draft,
    Finding,
    FindingKind,
    Proposal,
    ResourceAddress,
    Severity,
    Strategy,
    Verification,
)
from driftctl.reconcile.pipeline import rationale

FINDING = Finding(
    ResourceAddress("aws_s3_bucket.logs", "aws_s3_bucket", "logs"),
    FindingKind.CHANGED,
    (AttributeChange("tags.owner", ChangeKind.ADDED, after="bob"),),
    Severity.LOW,
    "tags-changed",
)
ALLOWED = Decision(DecisionKind.AUTO_APPLY, ("confidence 0.90 ≥ 0.85", "risk 0.05 ≤ 0.30, no policy denies"))


def _proposal(strategy: Strategy, decision: Decision) -> Proposal:
    return Proposal(
        FINDING,
        Draft(FINDING.address, strategy, "rules", rationale="Tag added by hand.", confidence=0.9),
        Verification(ok=True, reason="the drift is gone and nothing else changes"),
        Assessment(risk=0.05, confidence=0.9),
        decision,
    )


def test_an_adopt_the_gate_would_allow_says_proposed_not_auto_apply() -> None:
    text = rationale(_proposal(Strategy.ADOPT, ALLOWED))
    assert "auto_apply" not in text
    assert "Decision: proposed (confidence 0.90 ≥ 0.85; risk 0.05 ≤ 0.30, no policy denies;" in text
    assert "never applied silently" in text
    assert text.count("never applied") == 1


def test_a_revert_keeps_its_decision() -> None:
    text = rationale(_proposal(Strategy.REVERT, ALLOWED))
    assert "Decision: auto_apply: confidence 0.90" in text and "silently" not in text
    blocked = Decision(DecisionKind.BLOCK, ("policy denies: no",))
    assert "Decision: block: policy denies: no." in rationale(_proposal(Strategy.ADOPT, blocked))
