from __future__ import annotations

from driftctl.core import ItemResult, Outcome, Status, WorkspaceResult
from driftctl.service.events import AddressState, changes

SG = "aws_security_group.web"


def result(*items: tuple[str, Outcome], status: Status = Status.DRIFT) -> WorkspaceResult:
    return WorkspaceResult(
        "ws", "auto", status, tuple(ItemResult(a, "high", o, seconds=4.0) for a, o in items)
    )


def kinds(found: object) -> list[str]:
    return [e.kind for e in found.events]  # type: ignore[attr-defined]


def test_only_changes_of_state_are_events() -> None:
    first = changes(result((SG, Outcome.PROPOSED)), {}, run_id="r1", now=100.0)
    assert kinds(first) == ["new_drift"]
    again = changes(result((SG, Outcome.PROPOSED)), first.states, run_id="r2", now=200.0)
    assert kinds(again) == []  # still drifting: said once
    human = changes(result((SG, Outcome.NEEDS_HUMAN)), first.states, run_id="r3", now=300.0)
    assert kinds(human) == ["needs_human"]


def test_a_heal_reports_the_time_from_first_seen() -> None:
    seen = changes(result((SG, Outcome.PROPOSED)), {}, run_id="r1", now=100.0)
    healed = changes(result((SG, Outcome.HEALED), status=Status.HEALED), seen.states, run_id="r2", now=160.0)
    (event,) = healed.events
    assert event.kind == "healed" and event.time_to_heal_s == 64.0  # first seen at 100 - 4 s into run 1


def test_a_drift_healed_in_its_first_run_counts_from_that_run() -> None:
    found = changes(result((SG, Outcome.HEALED), status=Status.HEALED), {}, run_id="r1", now=100.0)
    assert kinds(found) == ["healed"]
    assert found.events[0].time_to_heal_s == 4.0


def test_flapping_is_announced_once_when_an_address_keeps_being_healed() -> None:
    states: dict[str, AddressState] = {}
    seen: list[str] = []
    for n in range(5):
        found = changes(
            result((SG, Outcome.HEALED), status=Status.HEALED),
            states,
            run_id=f"r{n}",
            now=1000.0 + n,
            flapping_heals=3,
        )
        states = {**states, **found.states}
        seen += kinds(found)
    assert seen.count("healed") == 5
    assert seen.count("flapping") == 1


def test_heal_failed_and_breaker_opened() -> None:
    found = changes(result((SG, Outcome.HEAL_FAILED)), {}, run_id="r1", now=1.0, breaker_opened=True)
    assert kinds(found) == ["heal_failed", "breaker_opened"]


def test_drift_fixed_elsewhere_is_closed_quietly_and_a_new_drift_is_new_again() -> None:
    seen = changes(result((SG, Outcome.PROPOSED)), {}, run_id="r1", now=1.0)
    gone = changes(result(status=Status.CLEAN), seen.states, run_id="r2", now=2.0)
    assert kinds(gone) == [] and gone.states[SG].state == "gone"
    back = changes(result((SG, Outcome.PROPOSED)), gone.states, run_id="r3", now=3.0)
    assert kinds(back) == ["new_drift"]


def test_an_errored_run_closes_nothing() -> None:
    seen = changes(result((SG, Outcome.PROPOSED)), {}, run_id="r1", now=1.0)
    failed = changes(result(status=Status.ERROR), seen.states, run_id="r2", now=2.0)
    assert failed.states == {}


def test_the_event_key_is_stable_per_change() -> None:
    a = changes(result((SG, Outcome.PROPOSED)), {}, run_id="r1", now=1.0).events[0]
    b = changes(result((SG, Outcome.PROPOSED)), {}, run_id="r1", now=5.0).events[0]
    assert a.key == b.key
