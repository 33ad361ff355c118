"""The `service:` section of driftctl.yaml: address, scheduling, lease, windows, notifications (no I/O).

Secrets never live in the file: a notification sink names the environment variables that hold its URL
and signing key (``url_env``, ``secret_env``); they are read when ``driftctl serve`` starts.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EVENTS: tuple[str, ...] = ("new_drift", "healed", "needs_human", "heal_failed", "breaker_opened", "flapping")
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_LISTEN = "127.0.0.1:8080"

Event = Literal["new_drift", "healed", "needs_human", "heal_failed", "breaker_opened", "flapping"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Seconds = Annotated[float, Field(gt=0)]

_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Window(_Strict):
    """A maintenance window: on ``days``, from ``start`` to ``end`` (HH:MM, the service's timezone).
    An ``end`` at or before ``start`` runs past midnight into the next day."""

    days: list[Day] = list(DAYS)  # type: ignore[arg-type]
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _HHMM.fullmatch(value):
            raise ValueError(f"{value!r} is not a time of day as HH:MM (00:00-23:59)")
        return value


class Sink(_Strict):
    """Where notifications go. ``slack``: an incoming-webhook URL; ``webhook``: any HTTPS endpoint that
    receives versioned JSON signed with HMAC-SHA256 (docs/service.md says how to verify it)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]
    kind: Literal["slack", "webhook"]
    url_env: str
    secret_env: str | None = None
    events: list[Event] = list(EVENTS)  # type: ignore[arg-type]

    @field_validator("url_env", "secret_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not _ENV.fullmatch(value):
            raise ValueError(f"{value!r} must name an environment variable (the value is never in the file)")
        return value

    @model_validator(mode="after")
    def _signed(self) -> Sink:
        if self.kind == "webhook" and self.secret_env is None:
            raise ValueError(f"webhook sink {self.name!r} needs secret_env: its payloads are always signed")
        return self


class Delivery(_Strict):
    """Outbox retries: exponential backoff from ``backoff`` up to ``backoff_max``, ``attempts`` tries."""

    timeout: Seconds = 5.0
    attempts: Annotated[int, Field(ge=1, le=100)] = 12
    backoff: Seconds = 2.0
    backoff_max: Seconds = 600.0


class ServiceSettings(_Strict):
    """What `driftctl serve` reads; every field has a default, so the section is optional."""

    listen: str = DEFAULT_LISTEN
    timezone: str = "UTC"
    jitter: Annotated[float, Field(ge=0)] = 0.0
    misfire_grace: Seconds = 300.0
    lease_ttl: Annotated[float, Field(ge=1)] = 15.0
    poll: Seconds = 1.0
    stop_grace: Seconds = 600.0
    flapping_heals: Annotated[int, Field(ge=2, le=100)] = 3  # heals of one address within a day
    maintenance: dict[str, list[Window]] = {}  # workspace name (or "*") → windows where fixes may apply
    notify: list[Sink] = []
    delivery: Delivery = Delivery()

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"{value!r} is not HOST:PORT, e.g. {DEFAULT_LISTEN!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r} (an IANA name such as 'UTC' or 'Europe/Paris')"
            ) from None
        return value

    @model_validator(mode="after")
    def _unique_sinks(self) -> ServiceSettings:
        names = [s.name for s in self.notify]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate notification sink name(s): {', '.join(dupes)}")
        return self

    def windows_for(self, workspace: str) -> list[Window] | None:
        """The workspace's maintenance windows (its own, else ``"*"``); None: fixes may apply any time."""
        found = self.maintenance.get(workspace, self.maintenance.get("*"))
        return found if found is not None else None
