"""Turns blast radius, checkov and Rego results into risk and confidence with reasons (no I/O).

Confidence comes from evidence only: a verification that passed (first time or after redrafts),
the blast radius, policy warnings and newly failing checks, and the workspace's history of failed
heals. The drafter's own number (a model's self-report above all) is never evidence: it may only
lower the result, so an overconfident or hostile model cannot push a fix over the auto-apply bar.
"""

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
VERIFIED_CONFIDENCE = 0.95  # verified: the drifted address no longer changes and nothing else does
REDRAFT_PENALTY = 0.05  # per verification attempt after the first
BLAST_CONFIDENCE = 0.25  # x blast risk: a wider change is a less certain one
WARN_CONFIDENCE = 0.05  # per Rego warning
CHECKOV_CONFIDENCE = 0.05  # per newly failing checkov check
FAILED_HEAL_CONFIDENCE = 0.1  # per recent failed heal of the same resource


class HistoryLike(Protocol):
    @property
    def failed_heals(self) -> int: ...


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
    history: HistoryLike | None = None,
) -> Assessment:
    """Risk and confidence, each the sum of its reasons (clamped to [0, 1]); any deny means risk 1.

    Confidence is built from evidence; the drafter's self-reported confidence only caps it.
    """
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

    reasons.extend(_confidence(blast, rego, checkov, draft, verification, history))
    risk = 1.0 if rego.deny else sum(r.risk for r in reasons)
    confidence = sum(r.confidence for r in reasons)
    return Assessment(
        risk=_clamp(risk),
        confidence=_clamp(confidence),
        reasons=tuple(reasons),
        denies=tuple(rego.deny),
        warnings=tuple(rego.warn),
    )


def _confidence(
    blast: BlastRadius,
    rego: RegoLike,
    checkov: CheckovLike | None,
    draft: Draft | None,
    verification: Verification | None,
    history: HistoryLike | None,
) -> list[Reason]:
    """The confidence reasons: evidence first, then the drafter's own number as a cap (never a raise)."""
    reasons: list[Reason] = []
    if draft is None or verification is None:
        reasons.append(
            Reason("verification", "no verified draft behind this plan", confidence=UNVERIFIED_CONFIDENCE)
        )
    elif not verification.ok:
        reasons.append(Reason("verification", f"failed: {verification.reason}", confidence=0.0))
    else:
        reasons.append(Reason("verification", verification.reason, confidence=VERIFIED_CONFIDENCE))
        if verification.attempts > 1:
            penalty = -REDRAFT_PENALTY * (verification.attempts - 1)
            reasons.append(
                Reason("verification", f"passed after {verification.attempts} attempts", confidence=penalty)
            )
    if blast.risk > 0 and verification is not None and verification.ok:  # unverified: already 0.5
        reasons.append(
            Reason(
                "blast",
                f"blast risk {blast.risk:.2f} lowers confidence",
                confidence=-BLAST_CONFIDENCE * blast.risk,
            )
        )
    for message in rego.warn:
        reasons.append(Reason("rego", f"warning lowers confidence: {message}", confidence=-WARN_CONFIDENCE))
    if checkov is not None:
        for f in checkov.new_failures:
            reasons.append(
                Reason(
                    "checkov", f"{f.check_id} newly failing lowers confidence", confidence=-CHECKOV_CONFIDENCE
                )
            )
    if history is not None and history.failed_heals > 0:
        reasons.append(
            Reason(
                "history",
                f"{history.failed_heals} recent failed heal(s) of this resource",
                confidence=-FAILED_HEAL_CONFIDENCE * history.failed_heals,
            )
        )
    if draft is not None and draft.needs_human:
        reasons.append(Reason("drafter", f"needs a human: {draft.needs_human}", confidence=-1.0))
    raw = sum(r.confidence for r in reasons)
    evidence = _clamp(raw)
    if draft is not None and verification is not None:
        own = _clamp(draft.confidence)
        if own < evidence:
            reasons.append(
                Reason(
                    "drafter",
                    f"{draft.drafter} drafter's own confidence {own:.2f} caps the evidence's {evidence:.2f}",
                    confidence=own - raw,  # the total is then exactly ``own`` (not off by rounding)
                )
            )
        else:
            reasons.append(
                Reason("drafter", f"{draft.drafter} drafter's own confidence {own:.2f} (may only lower it)")
            )
    return reasons
