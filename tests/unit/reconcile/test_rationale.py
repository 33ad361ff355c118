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
from driftctl.reconcile.narrate import rationale

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


def test_propose_console_says_an_allowed_adopt_is_proposed_and_wraps() -> None:
    from driftctl.propose import ProposeReport
    from driftctl.report.proposals import render_proposals

    adopt = _proposal(Strategy.ADOPT, ALLOWED)
    report = ProposeReport("prod", "envs/prod", (adopt,))
    text = render_proposals(report, "console", width=60)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  decision   "))
    block = [lines[start], *[line for line in lines[start + 1 :] if line.startswith(" " * 13)][:5]]
    decision = " ".join(" ".join(block).split())
    assert decision.startswith("decision proposed: confidence 0.90")
    assert "auto_apply" not in text and "never applied silently" in decision
    assert all(len(line) <= 60 for line in block)
    revert = render_proposals(
        ProposeReport("prod", "envs/prod", (_proposal(Strategy.REVERT, ALLOWED),)), "console"
    )
    assert "silently" not in revert
