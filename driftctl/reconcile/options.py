"""What a caller asks of one reconcile, as plain data that crosses process boundaries (no I/O).

A scheduled service, a PR comment command or a job-queue worker on another host hands these over as
JSON: they hold LLM *settings* (the name of the environment variable with the key, never the key and
never a live client). The runtime builds the drafter from them where the work runs.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from driftctl.errors import ConfigError

Mode = Literal["detect", "propose", "auto"]
StrategyName = Literal["revert", "adopt"]
DrafterName = Literal["auto", "rules", "llm"]

MODES: tuple[str, ...] = ("detect", "propose", "auto")
STRATEGIES: tuple[str, ...] = ("revert", "adopt")
DRAFTERS: tuple[str, ...] = ("auto", "rules", "llm")


class LlmSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An OpenAI-compatible endpoint for the LLM drafter. ``api_key_env`` names the variable holding the
    key on the host that runs the work; the key itself is never part of the options."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 30.0
    max_attempts: int = 2  # redrafts after a failed verification
    max_retries: int = 3  # HTTP retries per request (429, 5xx, timeouts)
    budget_s: float = 300.0  # every LLM request of one run together, retries and waits included

    def __post_init__(self) -> None:
        if not self.budget_s > 0:
            raise ConfigError(f"llm budget_s must be a positive number of seconds, not {self.budget_s!r}")
        if not self.base_url or not self.model:
            raise ConfigError("llm settings need a base_url and a model")
        if not self.api_key_env or "=" in self.api_key_env:
            raise ConfigError(f"llm api_key_env must name an environment variable, not {self.api_key_env!r}")
        if self.timeout <= 0 or not 0 <= self.max_attempts <= 5 or self.max_retries < 0:
            raise ConfigError("llm timeout must be > 0, max_attempts 0..5 and max_retries ≥ 0")


class ReconcileOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One reconcile request. ``mode`` None: each workspace's configured mode. ``strategy`` None: the
    severity policy picks revert or adopt per finding. ``drafter`` auto: the LLM when settings are
    given here or configured on the runtime, else the rules drafter (which also takes over whenever
    the LLM fails). ``trigger`` and ``requested_by`` are recorded in the audit trail."""

    mode: Mode | None = None
    dry_run: bool = False
    strategy: StrategyName | None = None
    drafter: DrafterName = "auto"
    llm: LlmSettings | None = None
    checkov: bool = True
    trigger: str = "cli"  # cli | schedule | comment | event | …
    requested_by: str | None = None
    lock_attempts: int = 4  # tries when Terraform's state lock is held by someone else
    lock_base_delay: float = 1.0
    hold: str | None = None  # auto-apply held for this run, and why (e.g. outside a maintenance window)

    def __post_init__(self) -> None:
        for what, value, allowed in (
            ("mode", self.mode, MODES),
            ("strategy", self.strategy, STRATEGIES),
            ("drafter", self.drafter, DRAFTERS),
        ):
            if value is not None and value not in allowed:
                raise ConfigError(f"{what} {value!r} is not one of {', '.join(allowed)}")
        if not self.trigger:
            raise ConfigError("trigger must name what started the run (cli, schedule, comment, event, …)")
        if self.lock_attempts < 1 or self.lock_base_delay < 0:
            raise ConfigError("lock_attempts must be ≥ 1 and lock_base_delay ≥ 0")

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> ReconcileOptions:
        """Options from a job payload; anything unknown or mistyped is a ConfigError naming it."""
        try:
            return msgspec.json.decode(data, type=cls)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"reconcile options: {exc}") from None
        except msgspec.DecodeError as exc:
            raise ConfigError(f"reconcile options are not JSON: {exc}") from None

    def replace(self, **changes: object) -> ReconcileOptions:
        return msgspec.structs.replace(self, **changes)
