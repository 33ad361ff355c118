"""State changes worth telling someone about, from one workspace's result (pure; no I/O).

Each drifted address has a state — ``drift``, ``needs_human``, ``heal_failed``, ``healed`` — and only a
change of state is an event: a drift that stays unhealed for a week is announced once. A heal is
``healed`` (with the time from first seen, the operators' MTTR figure); ``flapping`` when one address
was healed ``flapping_heals`` times within a day; ``breaker_opened`` when a workspace's breaker opens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from driftctl.core import Outcome, Status, WorkspaceResult

DAY_S = 86400.0
OPEN_STATES = ("drift", "needs_human", "heal_failed")

_STATE_OF: Mapping[Outcome, str] = {
    Outcome.HEALED: "healed",
    Outcome.HEAL_FAILED: "heal_failed",
    Outcome.NEEDS_HUMAN: "needs_human",
    Outcome.BLOCKED: "needs_human",
    Outcome.PROPOSED: "drift",
    Outcome.DETECTED: "drift",
    Outcome.WOULD_APPLY: "drift",
    Outcome.AWAITING_APPLY: "drift",
}


@dataclass(frozen=True, slots=True)
class AddressState:
    """What was last known of one address (the stored shape is ``FindingStateRow``)."""

    state: str
    first_seen: float
    changed_at: float
    heals: tuple[float, ...] = ()
    flapping: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    """One notification-worthy change. ``key`` is the same for the same change, whoever computes it."""

    kind: str
    workspace: str
    run_id: str
    at: float
    address: str | None = None
    severity: str | None = None
    outcome: str | None = None
    proposal_id: str | None = None
    summary: str = ""
    time_to_heal_s: float | None = None

    @property
    def key(self) -> str:
        raw = "\x1f".join((self.kind, self.workspace, self.address or "", self.run_id))
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Changes:
    events: tuple[Event, ...]
    states: dict[str, AddressState]  # address → its new state (only the ones that changed)


def changes(
    result: WorkspaceResult,
    before: Mapping[str, AddressState],
    *,
    run_id: str,
    now: float,
    breaker_opened: bool = False,
    flapping_heals: int = 3,
) -> Changes:
    """The events and new address states after ``result``, given the states ``before`` it."""
    events: list[Event] = []
    states: dict[str, AddressState] = {}
    ws = result.workspace
    seen: set[str] = set()
    for item in result.items:
        seen.add(item.address)
        new = _STATE_OF.get(item.outcome, "drift")
        old = before.get(item.address)
        if old is not None and old.state == new and new != "healed":
            continue
        episode_open = old is not None and old.state in OPEN_STATES
        first_seen = old.first_seen if episode_open and old is not None else now - (item.seconds or 0.0)
        state = AddressState(new, first_seen, now, old.heals if old else (), old.flapping if old else False)
        base = Event(
            kind=new,
            workspace=ws,
            run_id=run_id,
            at=now,
            address=item.address,
            severity=item.severity,
            outcome=item.outcome.value,
            proposal_id=item.proposal_id,
        )
        if new == "healed":
            heals = (*(t for t in state.heals if t > now - DAY_S), now)
            tth = round(now - first_seen, 3)
            events.append(
                replace(
                    base, summary=f"{item.address} healed {tth:.0f}s after first seen", time_to_heal_s=tth
                )
            )
            flapping = len(heals) >= flapping_heals
            if flapping and not state.flapping:
                events.append(
                    replace(
                        base, kind="flapping", summary=f"{item.address} healed {len(heals)} times in a day"
                    )
                )
            state = replace(state, heals=heals, flapping=flapping)
        elif new == "drift":
            if not episode_open:
                events.append(
                    replace(base, kind="new_drift", summary=f"{item.address} drifted ({item.severity})")
                )
        elif new == "needs_human":
            events.append(replace(base, summary=f"{item.address} needs a human: {item.outcome.value}"))
        else:
            events.append(replace(base, summary=f"{item.address}: the heal failed, the drift is still there"))
        states[item.address] = state
    if result.status in (Status.CLEAN, Status.HEALED, Status.DRIFT):  # a complete detection
        for address, old in before.items():
            if address not in seen and old.state in OPEN_STATES:
                states[address] = replace(old, state="gone", changed_at=now)  # fixed elsewhere: quietly
    if breaker_opened:
        events.append(
            Event("breaker_opened", ws, run_id, now, summary=f"{ws}: breaker opened, automatic heals are off")
        )
    return Changes(tuple(events), states)
