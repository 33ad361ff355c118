"""decide_heal: the one place a fix is decided, from every input (pure)."""

from __future__ import annotations

import pytest

from driftctl.assess.decide import ADOPT_NOTE, Gate, decide_heal
from driftctl.models import Assessment, DecisionKind, Strategy

GOOD = Assessment(risk=0.1, confidence=0.95)
AUTO = Gate(mode="auto")


def test_a_confident_low_risk_revert_with_its_pinned_plan_is_applied_now() -> None:
    v = decide_heal(GOOD, AUTO, strategy=Strategy.REVERT, pinned_plan=True)
    assert (v.decision.kind, v.apply, v.note) == (DecisionKind.AUTO_APPLY, True, "")


def test_an_adopt_that_qualifies_is_never_applied_silently() -> None:
    v = decide_heal(GOOD, AUTO, strategy=Strategy.ADOPT, pinned_plan=False)
    assert (v.decision.kind, v.apply, v.note) == (DecisionKind.AUTO_APPLY, False, ADOPT_NOTE)


def test_a_revert_without_a_verified_plan_is_not_applied() -> None:
    v = decide_heal(GOOD, AUTO, strategy=Strategy.REVERT, pinned_plan=False)
    assert not v.apply


def test_a_failed_assessment_blocks() -> None:
    v = decide_heal(None, AUTO, strategy=Strategy.REVERT, pinned_plan=True, assess_error="opa broke")
    assert v.decision.kind is DecisionKind.BLOCK and not v.apply
    assert v.decision.reasons == ("assessment failed, so nothing may apply: opa broke",)


@pytest.mark.parametrize(
    ("gate", "reason"),
    [
        (Gate(mode="propose"), "mode is propose, not auto"),
        (Gate(mode="auto", breaker_open=True), "the breaker is open after failed heals"),
        (Gate(mode="auto", rate_limited=True), "the hourly limit of automatic applies is reached"),
        (Gate(mode="auto", flapping="healed 3 times in 1h"), "flapping: healed 3 times in 1h"),
        (Gate(mode="auto", hold="outside the maintenance window Sat 02:00-04:00"), "outside the maintenance"),
        (Gate(mode="auto", held=("the state kept moving",)), "the state kept moving"),
        (Gate(mode="auto", max_risk=0.05), "risk 0.10 > limit 0.05"),
        (Gate(mode="auto", confidence_threshold=0.99), "confidence 0.95 < threshold 0.99"),
    ],
)
def test_every_input_that_holds_an_apply_is_named(gate: Gate, reason: str) -> None:
    v = decide_heal(GOOD, gate, strategy=Strategy.REVERT, pinned_plan=True)
    assert v.decision.kind is DecisionKind.PROPOSE and not v.apply
    assert any(r.startswith(reason) for r in v.decision.reasons), v.decision.reasons


def test_a_policy_deny_blocks_whatever_the_gate() -> None:
    denied = Assessment(risk=0.1, confidence=0.95, denies=("sg-admin-port-open: 22 open to the world",))
    v = decide_heal(denied, Gate(mode="auto", breaker_open=True), strategy=Strategy.ADOPT, pinned_plan=False)
    assert v.decision.kind is DecisionKind.BLOCK and not v.apply and v.note == ""
