"""Maintenance windows: is a fix allowed to apply now, and if not, the reason the decision gives (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from driftctl.service.settings import DAYS, Window


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def inside(window: Window, moment: datetime) -> bool:
    """Whether ``moment`` (already in the service's timezone) falls in ``window``; a window whose end is
    at or before its start belongs to the day it starts on and runs past midnight."""
    start, end = _hhmm(window.start), _hhmm(window.end)
    now = moment.time()
    today = DAYS[moment.weekday()]
    if start < end:
        return today in window.days and start <= now < end
    yesterday = DAYS[(moment - timedelta(days=1)).weekday()]
    return (today in window.days and now >= start) or (yesterday in window.days and now < end)


def hold_reason(windows: Sequence[Window] | None, moment: datetime, timezone: str) -> str | None:
    """None when fixes may apply at ``moment``; else why not, for the decision's reasons."""
    if windows is None:
        return None
    local = moment.astimezone(ZoneInfo(timezone))
    if any(inside(w, local) for w in windows):
        return None
    spans = "; ".join(
        f"{','.join(w.days) if len(w.days) < 7 else 'daily'} {w.start}-{w.end}" for w in windows
    )
    return f"outside the maintenance window ({spans} {timezone}): fixes are proposed, not applied"
