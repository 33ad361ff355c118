"""The decision on a scored fix: block, apply on its own, or propose to a human (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from driftctl.models import Assessment, Decision, DecisionKind

DEFAULT_THRESHOLD = 0.85


@dataclass(frozen=True, slots=True)
class Gate:
    """What auto mode must satisfy, per workspace."""

    mode: str = "propose"  # detect | propose | auto
    confidence_threshold: float = DEFAULT_THRESHOLD
    max_risk: float = 0.3
    breaker_open: bool = False
    rate_limited: bool = False
    flapping: str | None = None  # the evidence, when the drifted address keeps coming back after heals


def decide(assessment: Assessment, gate: Gate) -> Decision:
    """``block`` on any deny; ``auto_apply`` only when every auto condition holds; else ``propose``.

    Every condition that kept a fix from auto-applying is named in the reasons.
    """
    if assessment.denies:
        return Decision(DecisionKind.BLOCK, tuple(f"policy denies: {d}" for d in assessment.denies))
    held: list[str] = []
    if gate.mode != "auto":
        held.append(f"mode is {gate.mode}, not auto")
    if assessment.confidence < gate.confidence_threshold:
        held.append(f"confidence {assessment.confidence:.2f} < threshold {gate.confidence_threshold:.2f}")
    if assessment.risk > gate.max_risk:
        held.append(f"risk {assessment.risk:.2f} > limit {gate.max_risk:.2f}")
    if gate.breaker_open:
        held.append("the breaker is open after failed heals")
    if gate.rate_limited:
        held.append("the hourly limit of automatic applies is reached")
    if gate.flapping:
        held.append(f"flapping: {gate.flapping}")
    if held:
        return Decision(DecisionKind.PROPOSE, tuple(held))
    return Decision(
        DecisionKind.AUTO_APPLY,
        (
            f"confidence {assessment.confidence:.2f} ≥ {gate.confidence_threshold:.2f}, "
            f"risk {assessment.risk:.2f} ≤ {gate.max_risk:.2f}, no policy denies",
        ),
    )
