"""The ``fleet:`` section of driftctl.yaml: sweep period, concurrency caps, jitter, opt-outs, events (no I/O).

Read by ``driftctl worker``. Every worker of a fleet reads the same file, so the caps hold across the
fleet: they are counted in Postgres (advisory locks), not in one process.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Seconds = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EventSettings(_Strict):
    """CloudTrail-via-EventBridge events read from an SQS queue (see docs/fleet.md)."""

    queue_url: Annotated[str, Field(min_length=1)]
    # The principals driftctl itself runs as: their calls are driftctl's own heals, never drift.
    own_principals: list[Annotated[str, Field(min_length=1)]] = []
    debounce_s: Annotated[float, Field(ge=0)] = 30.0
    max_wait_s: Seconds = 120.0  # a workspace with events arriving non-stop is reconciled after this
    poll_wait_s: Annotated[int, Field(ge=0, le=20)] = 5  # SQS long-poll
    index_refresh_s: Seconds = 600.0  # rebuild the state index (id/arn/name → address) this often
    region: str | None = None
    endpoint_url: str | None = None  # a moto server in tests and the sandbox


class FleetSettings(_Strict):
    """How a fleet of ``driftctl worker`` processes shares the work of one config."""

    # When every (not opted-out) workspace is due: cron, 5 fields, or 6 with seconds last.
    sweep: str = "*/30 * * * *"
    mode: Literal["detect", "propose", "auto"] | None = None  # None: each workspace's own mode
    strategy: Literal["revert", "adopt"] | None = None  # None: the severity policy picks per finding
    drafter: Literal["auto", "rules", "llm"] = "auto"
    checkov: bool = True
    max_concurrent: Annotated[int, Field(ge=1)] | None = None  # reconciles at once, fleet-wide
    max_per_account: Annotated[int, Field(ge=1)] | None = None  # at once per cloud account
    # workspace name (glob) → cloud account; the first match wins; unmatched → "default"
    accounts: dict[str, str] = {}
    jitter_s: Annotated[float, Field(ge=0)] = 0.0  # spread a sweep's jobs over [0, jitter_s)
    opt_out: list[str] = []  # workspace names (globs) the fleet leaves alone
    concurrency: Annotated[int, Field(ge=1, le=64)] = 1  # jobs at once per worker process
    lock_ttl_s: Seconds = 60.0  # the workspace lock's expiry after its last renewal
    stalled_after_s: Seconds = 30.0  # a worker silent this long is dead: its jobs run again
    heartbeat_s: Seconds = 10.0
    retry_attempts: Annotated[int, Field(ge=0, le=50)] = 5
    retry_wait_s: Seconds = 5.0
    keep_jobs_h: Annotated[int, Field(ge=1)] = 72  # finished jobs are removed from the queue after this
    events: EventSettings | None = None

    @field_validator("sweep")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            from croniter import croniter  # type: ignore[import-untyped]
        except ImportError:
            raise ValueError("the fleet section needs driftctl[postgres] installed (procrastinate)") from None

        if len(value.split()) not in (5, 6) or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (5 fields, or 6 with seconds last)")
        return value

    def opted_out(self, workspace: str) -> bool:
        return any(fnmatch.fnmatchcase(workspace, pattern) for pattern in self.opt_out)

    def account_of(self, workspace: str) -> str:
        for pattern, account in self.accounts.items():
            if fnmatch.fnmatchcase(workspace, pattern):
                return account
        return "default"
