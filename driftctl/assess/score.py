"""Turns blast radius, checkov and Rego results into risk and confidence with reasons (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from driftctl.assess.blast import BlastRadius
from driftctl.models import Assessment, Draft, Reason, Verification

# What a newly failing checkov check adds to risk, by our severity; a repaired one takes a little off.
CHECKOV_RISK = {"critical": 0.5, "high": 0.3, "medium": 0.15, "low": 0.05, "info": 0.0}
FIXED_CREDIT = 0.05
WARN_RISK = 0.1
UNVERIFIED_CONFIDENCE = 0.5  # a plan with no drafter/verification behind it (`assess --plan-file`)


class CheckFindingLike(Protocol):
    @property
    def check_id(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def severity(self) -> str: ...


class CheckovLike(Protocol):
    @property
    def new_failures(self) -> Sequence[CheckFindingLike]: ...
    @property
    def fixed(self) -> Sequence[CheckFindingLike]: ...


class RegoLike(Protocol):
    @property
    def deny(self) -> Sequence[str]: ...
    @property
    def warn(self) -> Sequence[str]: ...
    @property
    def score(self) -> float: ...


def _clamp(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 4)


def score(
    *,
    blast: BlastRadius,
    rego: RegoLike,
    checkov: CheckovLike | None = None,
    draft: Draft | None = None,
    verification: Verification | None = None,
) -> Assessment:
    """Risk and confidence, each the sum of its reasons (clamped to [0, 1]); any deny means risk 1."""
    reasons: list[Reason] = []
    changed = ", ".join(f"{action} {address}" for address, action in blast.changed) or "nothing"
    reasons.append(
        Reason(
            "blast",
            f"changes {changed}; {len(blast.dependents)} dependent(s) (score {blast.score})",
            risk=blast.risk,
        )
    )
    if checkov is not None:
        for f in checkov.new_failures:
            add = CHECKOV_RISK.get(f.severity, CHECKOV_RISK["medium"])
            reasons.append(
                Reason("checkov", f"{f.check_id} newly fails on {f.address} ({f.severity})", risk=add)
            )
        for f in checkov.fixed:
            reasons.append(Reason("checkov", f"{f.check_id} is repaired on {f.address}", risk=-FIXED_CREDIT))
    for message in rego.warn:
        reasons.append(Reason("rego", f"warn: {message}", risk=WARN_RISK))
    for message in rego.deny:
        reasons.append(Reason("rego", f"deny: {message}", risk=1.0))

    if draft is None or verification is None:
        reasons.append(
            Reason("verification", "no verified draft behind this plan", confidence=UNVERIFIED_CONFIDENCE)
        )
    else:
        reasons.append(
            Reason("drafter", f"{draft.drafter} drafter's confidence", confidence=draft.confidence)
        )
        if not verification.ok:
            reasons.append(
                Reason("verification", f"failed: {verification.reason}", confidence=-draft.confidence)
            )
        elif verification.attempts > 1:
            penalty = -0.05 * (verification.attempts - 1)
            reasons.append(
                Reason("verification", f"passed after {verification.attempts} attempts", confidence=penalty)
            )
        else:
            reasons.append(Reason("verification", verification.reason))
        if draft.needs_human:
            reasons.append(Reason("drafter", f"needs a human: {draft.needs_human}", confidence=-1.0))
    for message in rego.warn:
        reasons.append(Reason("rego", f"warning lowers confidence: {message}", confidence=-0.05))

    risk = 1.0 if rego.deny else sum(r.risk for r in reasons)
    confidence = sum(r.confidence for r in reasons)
    return Assessment(
        risk=_clamp(risk),
        confidence=_clamp(confidence),
        reasons=tuple(reasons),
        denies=tuple(rego.deny),
        warnings=tuple(rego.warn),
    )
