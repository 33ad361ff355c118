"""Schedules as APScheduler triggers, schedule windows, and the catch-up rule (no I/O).

A *window* is the time between two fire times of a workspace's schedule; a run belongs to the window
whose fire time is the latest at or before the moment it starts. The store records each workspace's
last claimed window, so:

- **no double run**: a window is claimed once (a restart, or a second scheduler, finds it claimed);
- **no silent skip**: at start, a workspace whose last claimed window is older than the current one
  (missed while no scheduler ran) runs once now — one catch-up however many windows were missed
  (``coalesce``); a claimed run that never finished (the process died) runs again, and the core marks
  the interrupted action and re-detects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from driftctl.config import crontab_day_of_week, every_seconds
from driftctl.errors import ConfigError

# Interval windows are counted from a fixed origin, so they are the same windows after a restart.
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


def trigger_for(schedule: str, timezone: str = "UTC", jitter: float = 0.0) -> Any:
    """The APScheduler trigger for a workspace's ``schedule`` (cron, or ``@every Ns``)."""
    tz = ZoneInfo(timezone)
    seconds = every_seconds(schedule)
    jitter_s = int(jitter) or None
    try:
        if seconds is not None:
            return IntervalTrigger(seconds=seconds, start_date=ORIGIN, timezone=tz, jitter=jitter_s)
        minute, hour, day, month, day_of_week = schedule.split()
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_day_of_week(day_of_week),
            timezone=tz,
            jitter=jitter_s,
        )
    except ValueError as exc:
        raise ConfigError(f"schedule {schedule!r}: {exc}") from None


def previous_fire(trigger: Any, now: datetime) -> datetime | None:
    """The latest fire time of ``trigger`` at or before ``now`` (looking back up to a year)."""
    span = timedelta(minutes=2)
    while span <= timedelta(days=400):
        first = trigger.get_next_fire_time(None, now - span)
        if first is not None and first <= now:
            last = first
            while True:
                nxt = trigger.get_next_fire_time(last, last + timedelta(microseconds=1))
                if nxt is None or nxt > now:
                    return last  # type: ignore[no-any-return]
                last = nxt
        span *= 4
    return None


@dataclass(frozen=True, slots=True)
class Claimed:
    """What the store holds for a workspace: its last claimed window and whether that run finished."""

    window: float
    finished: bool


def needs_catch_up(last: Claimed | None, current_window: float | None) -> bool:
    """The catch-up rule at start (see the module docstring)."""
    if current_window is None:
        return False  # the schedule has never fired (a cron with no past fire time)
    if last is None:
        return True  # never ran here: run once now rather than wait for the next window
    if last.window < current_window:
        return True  # one or more windows passed with no run: one catch-up run
    return not last.finished  # this window's run was cut short: run it again


def window_for(trigger: Any, now: datetime) -> float | None:
    """The window ``now`` falls in, as its fire time in epoch seconds (the trigger without jitter)."""
    fire = previous_fire(trigger, now)
    return fire.timestamp() if fire is not None else None
