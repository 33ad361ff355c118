from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftctl.service.settings import Window
from driftctl.service.window import hold_reason, inside

NIGHT = Window(days=["mon", "tue", "wed", "thu", "fri"], start="22:00", end="06:00")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` days after Monday 2026-11-30, at ``hour:minute`` UTC."""
    return datetime(2026, 11, 30, hour, minute, tzinfo=UTC) + timedelta(days=day)


def test_a_window_inside_one_day() -> None:
    w = Window(start="09:00", end="17:00")
    assert inside(w, at(0, 9))
    assert inside(w, at(0, 16, 59))
    assert not inside(w, at(0, 17))
    assert not inside(w, at(0, 8, 59))


def test_a_window_past_midnight_belongs_to_the_day_it_starts() -> None:
    friday_night, saturday_morning = at(4, 23), at(5, 5)
    sunday_night, monday_morning = at(6, 23), datetime(2026, 11, 30, 5, tzinfo=UTC)
    assert inside(NIGHT, friday_night)
    assert inside(NIGHT, saturday_morning)  # Friday's window runs into Saturday
    assert not inside(NIGHT, sunday_night)
    assert not inside(NIGHT, monday_morning)  # Sunday has no window


def test_the_hold_reason_says_fixes_are_proposed_and_names_the_window() -> None:
    reason = hold_reason([NIGHT], at(1, 12), "UTC")
    assert reason is not None
    assert "outside the maintenance window" in reason
    assert "proposed, not applied" in reason
    assert "22:00-06:00" in reason
    assert hold_reason([NIGHT], at(1, 23), "UTC") is None
    assert hold_reason(None, at(1, 12), "UTC") is None  # no windows: any time


def test_windows_are_read_in_the_service_timezone() -> None:
    w = Window(start="09:00", end="10:00")
    eight_utc = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # 09:30 in Paris (CET)
    assert hold_reason([w], eight_utc, "Europe/Paris") is None
    assert hold_reason([w], eight_utc, "UTC") is not None
