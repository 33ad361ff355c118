from __future__ import annotations

from datetime import UTC, datetime

import pytest

from driftctl.errors import ConfigError
from driftctl.service.schedule import (
    Claimed,
    crontab_day_of_week,
    needs_catch_up,
    previous_fire,
    trigger_for,
    window_for,
)

MONDAY = datetime(2026, 11, 30, 22, 7, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("0,6", "sun,sat"),
    ],
)
def test_crontab_weekdays_mean_what_crontab_means(field: str, days: str) -> None:
    # APScheduler 3 counts 0 as Monday; a crontab's 0 is Sunday.
    assert crontab_day_of_week(field) == days


def test_a_weekday_cron_fires_on_the_crontab_day() -> None:
    sunday_3am = trigger_for("0 3 * * 0").get_next_fire_time(None, MONDAY)
    assert sunday_3am == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert sunday_3am.strftime("%a") == "Sun"


@pytest.mark.parametrize(
    ("schedule", "previous"),
    [
        ("*/30 * * * *", datetime(2026, 11, 30, 22, 0, tzinfo=UTC)),
        ("0 3 * * 1-5", datetime(2026, 11, 30, 3, 0, tzinfo=UTC)),
        ("0 0 1 1 *", datetime(2026, 1, 1, tzinfo=UTC)),
        ("@every 2s", datetime(2026, 11, 30, 22, 7, 2, tzinfo=UTC)),
        ("@every 10m", datetime(2026, 11, 30, 22, 0, tzinfo=UTC)),
    ],
)
def test_the_window_is_the_latest_fire_time_at_or_before_now(schedule: str, previous: datetime) -> None:
    trigger = trigger_for(schedule)
    assert previous_fire(trigger, MONDAY) == previous
    assert window_for(trigger, MONDAY) == previous.timestamp()


def test_interval_windows_do_not_move_with_a_restart() -> None:
    # Counted from a fixed origin, not from when the process started.
    a = window_for(trigger_for("@every 7s"), MONDAY)
    b = window_for(trigger_for("@every 7s"), MONDAY)
    assert a == b
    assert a is not None and int(a) % 7 == int(datetime(2000, 1, 1, tzinfo=UTC).timestamp()) % 7


def test_the_timezone_moves_cron_fire_times() -> None:
    paris = previous_fire(trigger_for("0 3 * * *", "Europe/Paris"), MONDAY)
    assert paris is not None and paris.astimezone(UTC).hour == 2  # 03:00 CET is 02:00 UTC


def test_a_bad_schedule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="schedule"):
        trigger_for("61 * * * *")


@pytest.mark.parametrize(
    ("last", "current", "expected"),
    [
        (None, 100.0, True),  # never ran: run now
        (Claimed(90.0, True), 100.0, True),  # a window was missed: one catch-up
        (Claimed(100.0, True), 100.0, False),  # this window already ran: no double run
        (Claimed(100.0, False), 100.0, True),  # this window's run died: run it again
        (None, None, False),  # the schedule never fired yet
    ],
)
def test_catch_up_rule(last: Claimed | None, current: float | None, expected: bool) -> None:
    assert needs_catch_up(last, current) is expected
