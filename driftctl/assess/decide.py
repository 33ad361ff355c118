"""The decision on a fix, made in one place from every input: block, apply now, or propose (pure, no I/O).

``decide`` is the policy gate on a scored plan (also what `driftctl assess` reports). ``decide_heal``
is the whole call for a drafted fix: the gate, plus what only the pipeline knows — whether the fix is
a revert with a verified, pinned plan (adopts are never applied silently), and whether the
assessment could be made at all (a failed policy engine blocks: fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass

from driftctl.models import Assessment, Decision, DecisionKind, Strategy

DEFAULT_THRESHOLD = 0.85
ADOPT_NOTE = "Adopt fixes are never applied automatically: review and merge the change."


@dataclass(frozen=True, slots=True)
class Gate:
    """What auto mode must satisfy, per workspace and address, as plain inputs.

    ``flapping`` and ``hold`` are inputs from the drift ledger and from a maintenance window (or any
    caller that holds automatic applies for a run): the reason auto-apply must wait, None when nothing
    holds it. ``held``: any other reason found on the way (e.g. the state kept moving while re-planning).
    """

    mode: str = "propose"  # detect | propose | auto
    confidence_threshold: float = DEFAULT_THRESHOLD
    max_risk: float = 0.3
    breaker_open: bool = False
    rate_limited: bool = False
    flapping: str | None = None
    hold: str | None = None  # e.g. "outside the maintenance window …" (the reason, as given)
    held: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision as recorded, whether to apply now, and a note for the human (or "")."""

    decision: Decision
    apply: bool = False
    note: str = ""


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
    if gate.flapping is not None:
        held.append(f"flapping: {gate.flapping}")
    if gate.hold:
        held.append(gate.hold)
    held.extend(gate.held)
    if held:
        return Decision(DecisionKind.PROPOSE, tuple(held))
    return Decision(
        DecisionKind.AUTO_APPLY,
        (
            f"confidence {assessment.confidence:.2f} ≥ {gate.confidence_threshold:.2f}, "
            f"risk {assessment.risk:.2f} ≤ {gate.max_risk:.2f}, no policy denies",
        ),
    )


def decide_heal(
    assessment: Assessment | None,
    gate: Gate,
    *,
    strategy: Strategy,
    pinned_plan: bool,
    assess_error: str | None = None,
) -> Verdict:
    """The call on one verified fix. Applied now only when the gate says ``auto_apply`` and it is a
    revert whose exact plan was verified and scored; an adopt that would qualify is still proposed."""
    if assess_error is not None or assessment is None:
        why = assess_error or "the fix was not assessed"
        return Verdict(Decision(DecisionKind.BLOCK, (f"assessment failed, so nothing may apply: {why}",)))
    decision = decide(assessment, gate)
    if decision.kind is not DecisionKind.AUTO_APPLY:
        return Verdict(decision)
    if strategy is Strategy.ADOPT:
        return Verdict(decision, apply=False, note=ADOPT_NOTE)
    return Verdict(decision, apply=pinned_plan)
