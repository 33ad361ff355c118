"""The runtime every workspace of a run shares, built in one place (I/O: reads config, the store).

The CLI, the scenario runner and any other front door call :func:`build_runtime`. Per-request options
stay plain data; :func:`llm_drafter` is where LLM *settings* become a client, on the host doing the work.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftctl.assess.decide import Gate
from driftctl.detect.engine import Policy, Target
from driftctl.errors import ConfigError, DriftctlError
from driftctl.reconcile.locks import (
    DEFAULT_LOCK_TTL_S,
    DatabaseWorkspaceLock,
    FileWorkspaceLock,
    WorkspaceLock,
)
from driftctl.reconcile.options import LlmSettings, ReconcileOptions

if TYPE_CHECKING:
    from driftctl.audit.store import Store
    from driftctl.config import LlmSettings as ConfiguredLlm
    from driftctl.draft.llm import LlmDrafter

Progress = Callable[[str], None]


def new_run_id() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every workspace of one run shares: the store, the data directory, the policy, progress."""

    store: Store
    data_dir: Path
    policy: Policy
    progress: Progress
    run_id: str = field(default_factory=new_run_id)
    shared_lock: bool = False  # a database lock instead of a file lock (a shared, non-SQLite store)
    config_path: Path | None = None  # the driftctl.yaml the workspaces come from (None: directories)
    llm: LlmSettings | None = None  # the configured LLM endpoint, for drafter "auto" / "llm"
    lock_ttl_s: float = DEFAULT_LOCK_TTL_S  # a database lock's expiry after its last renewal

    def new_run(self) -> Runtime:
        """The same runtime under a fresh run id (one per reconcile, so audit rows group by run); the
        drift ledger's audit rows follow it."""
        run_id = new_run_id()
        ledger = self.policy.ledger
        policy = self.policy
        if ledger is not None:
            policy = dataclasses.replace(policy, ledger=ledger.for_run(run_id))
        return dataclasses.replace(self, run_id=run_id, policy=policy)

    def audit(
        self,
        kind: str,
        status: str,
        data: dict[str, Any],
        *,
        workspace: str | None = None,
        subject: str | None = None,
    ) -> int:
        entry = self.store.append(
            kind, run_id=self.run_id, status=status, data=data, workspace=workspace, subject=subject
        )
        return entry.seq

    def lock_for(self, workspace: str, timeout: float) -> WorkspaceLock:
        if self.shared_lock:
            return DatabaseWorkspaceLock(self.store, workspace, ttl_s=self.lock_ttl_s)  # renewed while held
        return FileWorkspaceLock(self.data_dir / "locks", workspace)

    @property
    def plans_dir(self) -> Path:
        path = self.data_dir / "plans"
        path.mkdir(parents=True, exist_ok=True, mode=0o700)  # saved plans hold state: keep them private
        return path

    def gate(self, target: Target, mode: str, **hooks: Any) -> Gate:
        """The gate for ``target`` now: its thresholds, its breaker, its hourly limit of auto applies;
        ``hooks``: flapping / hold / held reasons from the ledger or a maintenance window."""
        breaker = self.store.breaker(target.name)
        since = datetime.now(UTC) - timedelta(hours=1)
        applies = self.store.count_entries(
            "action", workspace=target.name, status="started", since=since, where={"auto": True}
        )
        return Gate(
            mode=mode,
            confidence_threshold=target.confidence_threshold,
            max_risk=target.max_risk,
            breaker_open=breaker.open,
            rate_limited=applies >= target.max_applies_per_hour,
            **hooks,
        )


def _quiet(_message: str) -> None:
    return None


def configured_llm(config_llm: ConfiguredLlm | None) -> LlmSettings | None:
    """The LLM endpoint from driftctl.yaml's `llm:` section, overridden by ``$DRIFTCTL_LLM_BASE_URL``,
    ``$DRIFTCTL_LLM_MODEL`` and ``$DRIFTCTL_LLM_API_KEY_ENV``; None when neither names one."""
    env = os.environ.get
    base_url = env("DRIFTCTL_LLM_BASE_URL") or (config_llm.base_url if config_llm else None)
    model = env("DRIFTCTL_LLM_MODEL") or (config_llm.model if config_llm else None)
    if not base_url or not model:
        return None
    key_env = env("DRIFTCTL_LLM_API_KEY_ENV") or (config_llm.api_key_env if config_llm else "OPENAI_API_KEY")
    if config_llm is None:
        return LlmSettings(base_url=base_url, model=model, api_key_env=key_env)
    return LlmSettings(
        base_url=base_url,
        model=model,
        api_key_env=key_env,
        timeout=config_llm.timeout_s,
        max_retries=config_llm.max_retries,
        max_attempts=config_llm.max_attempts,
        budget_s=config_llm.budget_s,
    )


def build_runtime(
    config_path: Path | None = None,
    *,
    progress: Progress | None = None,
    database_url: str | None = None,
    data_dir: Path | None = None,
    store: Store | None = None,
) -> Runtime:
    """The store (``store``, else ``database_url``, else ``$DRIFTCTL_DATABASE_URL``, else SQLite beside
    the config or in ``data_dir``), the data directory (plans, patches, locks: each made when first
    used), the severity policy with the drift ledger in that store (every path that detects through
    this runtime merges its plans with it) and the LLM endpoint configured; ``config_path`` None:
    ./driftctl.yaml if there is one."""
    from driftctl.audit.store import Store, default_database_path
    from driftctl.config import find_config, load_config
    from driftctl.detect.severity import load_severity_rules
    from driftctl.ledger.ledger import DriftLedger

    path = config_path or find_config()
    try:
        config = load_config(path) if path is not None else None
    except ConfigError:
        # Commands that only touch the store (proposals, breaker) work with any config; whatever needs
        # the workspaces (resolve_workspaces) reads it again and reports every problem.
        config = None
    db = data_dir / "driftctl.db" if data_dir is not None else default_database_path(path)
    if store is None and database_url:
        from driftctl.audit.keys import KEY_FILE_NAME, configured_keyring, load_keyring

        db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        keyring = configured_keyring(path)
        if keyring is None and not database_url.startswith("sqlite"):
            keyring = load_keyring(db.parent / KEY_FILE_NAME)  # a shared database: a local key file
        store = Store(database_url, keyring)
    elif store is None:
        store = Store.open(db, path)
    run_id = new_run_id()
    return Runtime(
        store=store,
        data_dir=db.parent,
        policy=Policy(load_severity_rules(None), ledger=DriftLedger(store, run_id=run_id)),
        progress=progress or _quiet,
        run_id=run_id,
        shared_lock=not store.url.startswith("sqlite"),
        config_path=path,
        llm=configured_llm(config.llm if config is not None else None),
    )


def llm_drafter(options: ReconcileOptions, configured: LlmSettings | None) -> tuple[LlmDrafter | None, int]:
    """The LLM drafter the options ask for and its redraft budget; None for the rules drafter.

    A request may tune the model, timeout and attempts, but the endpoint and the variable holding its
    key are this host's: otherwise a job payload could send any of the worker's environment variables
    to a URL of its choosing.
    """
    if options.drafter == "rules":
        return None, 2
    settings = options.llm or configured
    if options.llm is not None and (
        configured is None
        or (options.llm.base_url, options.llm.api_key_env) != (configured.base_url, configured.api_key_env)
    ):
        raise ConfigError(
            "the request's LLM endpoint or key variable is not the one configured on this host",
            hint="configure it where the work runs: driftctl.yaml's `llm:` section, or "
            "DRIFTCTL_LLM_BASE_URL and DRIFTCTL_LLM_MODEL",
        )
    if settings is None:
        if options.drafter == "auto":
            return None, 2
        raise DriftctlError(
            "drafter llm needs an endpoint: an `llm:` section in driftctl.yaml (base_url, model), "
            "or DRIFTCTL_LLM_BASE_URL and DRIFTCTL_LLM_MODEL",
            hint="e.g. DRIFTCTL_LLM_BASE_URL=http://127.0.0.1:8000/v1 DRIFTCTL_LLM_MODEL=qwen2.5-coder",
        )
    from driftctl.draft.llm import LlmConfig, LlmDrafter

    config = LlmConfig(
        base_url=settings.base_url,
        model=settings.model,
        api_key_env=settings.api_key_env,
        timeout_s=settings.timeout,
        max_retries=settings.max_retries,
        budget_s=settings.budget_s,
    )
    return LlmDrafter(config), settings.max_attempts
