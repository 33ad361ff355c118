"""Builds the runtime every workspace of a run shares, in one place (I/O: reads config, opens the store).

The CLI, the scenario runner and any other front door call :func:`build_runtime`; per-call options
(plain data) are bound with :func:`with_options`, which is where LLM *settings* become a client.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from driftctl.errors import DriftctlError
from driftctl.reconcile.options import LlmSettings, ReconcileOptions

if TYPE_CHECKING:
    from driftctl.config import LlmSettings as ConfiguredLlm
    from driftctl.draft.llm import LlmDrafter
    from driftctl.reconcile.pipeline import Runtime

Progress = Callable[[str], None]


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
) -> Runtime:
    """The store (``database_url``, else ``$DRIFTCTL_DATABASE_URL``, else SQLite beside the config or
    in ``data_dir``), the data directory (plans, patches, locks), the severity policy and the LLM
    endpoint configured; ``config_path`` None: ./driftctl.yaml if there is one."""
    from driftctl.audit.store import Store, default_database_path
    from driftctl.config import find_config, load_config
    from driftctl.detect.engine import Policy
    from driftctl.detect.severity import load_severity_rules
    from driftctl.reconcile.pipeline import ReconcileOptions as RunOptions
    from driftctl.reconcile.pipeline import Runtime

    path = config_path or find_config()
    config = load_config(path) if path is not None else None
    db = data_dir / "driftctl.db" if data_dir is not None else default_database_path(path)
    if database_url:
        from driftctl.audit.keys import KEY_FILE_NAME, configured_keyring, load_keyring

        db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        keyring = configured_keyring(path)
        if keyring is None and not database_url.startswith("sqlite"):
            keyring = load_keyring(db.parent / KEY_FILE_NAME)  # a shared database: a local key file
        store = Store(database_url, keyring)
    else:
        store = Store.open(db, path)
    return Runtime(
        store=store,
        data_dir=db.parent,
        policy=Policy(load_severity_rules(None)),
        options=RunOptions(),
        progress=progress or _quiet,
        shared_lock=not store.url.startswith("sqlite"),
        config_path=path,
        llm=configured_llm(config.llm if config is not None else None),
    )


def llm_drafter(options: ReconcileOptions, configured: LlmSettings | None) -> tuple[LlmDrafter | None, int]:
    """The LLM drafter the options ask for and its redraft budget; None for the rules drafter."""
    if options.drafter == "rules":
        return None, 2
    settings = options.llm or configured
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


def with_options(runtime: Runtime, options: ReconcileOptions, *, address: str | None = None) -> Runtime:
    """The runtime bound to one request's options (the same store, data directory and run id)."""
    from driftctl.assess.engine import AssessOptions
    from driftctl.models import Strategy
    from driftctl.reconcile.pipeline import ReconcileOptions as RunOptions

    llm, attempts = llm_drafter(options, runtime.llm)
    if llm is not None:
        llm.progress = runtime.progress  # a line per LLM attempt, as for every other step
    run = RunOptions(
        mode=options.mode,
        dry_run=options.dry_run,
        strategy=Strategy(options.strategy) if options.strategy else None,
        llm=llm,
        max_attempts=attempts,
        assess=dataclasses.replace(runtime.options.assess or AssessOptions(), checkov=options.checkov),
        lock_attempts=options.lock_attempts,
        lock_base_delay=options.lock_base_delay,
        address=address,
        hold=options.hold,
    )
    return dataclasses.replace(runtime, options=run)
