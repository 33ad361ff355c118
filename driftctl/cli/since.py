"""`--since`/`--until` values: an ISO 8601 time, or a duration back from now like `24h` (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from driftctl.errors import DriftctlError

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(
    value: str | None, option: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> datetime | None:
    """``value`` as an aware UTC datetime: `7d` is seven days before ``now()``; a time without a zone
    is UTC. None stays None; anything else is an error naming ``option``."""
    if value is None:
        return None
    match = _RELATIVE.match(value)
    if match:
        return now() - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DriftctlError(
            f"{option} {value!r} is neither an ISO 8601 time nor a duration",
            hint="e.g. 24h, 7d, 30m, 2026-11-01 or 2026-11-01T08:00:00Z",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
