"""What every `driftctl` command shares: errors, common options, runtime, sandbox (I/O: terminal)."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from driftctl.errors import DriftctlError

F = TypeVar("F", bound=Callable[..., Any])


def handles_errors(fn: F) -> F:
    """Render DriftctlError as a message and its exit code; never a traceback for expected errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DriftctlError as exc:
            click.echo(exc.render(), err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["console", "json"]),
    default="console",
    show_default=True,
    help="Human-readable text, or JSON for scripts.",
)
config_option = click.option(
    "--config",
    "-c",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="DRIFTCTL_CONFIG",
    help="driftctl.yaml to read (default: $DRIFTCTL_CONFIG, else ./driftctl.yaml if present).",
)
markdown_output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["console", "json", "markdown"]),
    default="console",
    show_default=True,
    help="Human-readable text, JSON for scripts, or Markdown for a pull-request comment.",
)
DATABASE_URL_ENV = "DRIFTCTL_DATABASE_URL"  # driftctl.audit.store's name, without importing SQLAlchemy
database_option = click.option(
    "--database",
    "database",
    envvar=DATABASE_URL_ENV,
    metavar="URL",
    default=None,
    help=f"SQLAlchemy database URL (default: ${DATABASE_URL_ENV}, else .driftctl/driftctl.db next to "
    "driftctl.yaml, else $XDG_DATA_HOME/driftctl/driftctl.db).",
)
no_checkov_option = click.option(
    "--no-checkov", is_flag=True, help="Skip checkov (Rego policies and blast radius still run)."
)
sandbox_dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Sandbox directory (default: $DRIFTCTL_SANDBOX_DIR or ./.driftctl/sandbox).",
)


def progress(message: str) -> None:
    """One progress line on stderr."""
    click.echo(click.style("· ", fg="cyan") + message, err=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def llm_drafter(config_path: Path | None, drafter: str, quiet: bool = False) -> tuple[Any, int]:
    """The LLM drafter asked for (``llm``), or configured (``auto``), and its redraft budget; else None.

    Endpoint: the `llm:` section of driftctl.yaml, overridden by DRIFTCTL_LLM_BASE_URL and
    DRIFTCTL_LLM_MODEL; the key is read from the environment variable it names.
    """
    if drafter == "rules":
        return None, 2
    from driftctl.config import find_config, load_config
    from driftctl.draft.llm import LlmConfig, LlmDrafter

    path = config_path or find_config()
    settings = load_config(path).llm if path is not None else None
    base_url = os.environ.get("DRIFTCTL_LLM_BASE_URL") or (settings.base_url if settings else None)
    model = os.environ.get("DRIFTCTL_LLM_MODEL") or (settings.model if settings else None)
    if not base_url or not model:
        if drafter == "auto":
            return None, 2
        raise DriftctlError(
            "--drafter llm needs an endpoint: an `llm:` section in driftctl.yaml (base_url, model), "
            "or DRIFTCTL_LLM_BASE_URL and DRIFTCTL_LLM_MODEL",
            hint="e.g. DRIFTCTL_LLM_BASE_URL=http://127.0.0.1:8000/v1 DRIFTCTL_LLM_MODEL=qwen2.5-coder",
        )
    key_env = os.environ.get("DRIFTCTL_LLM_API_KEY_ENV") or (
        settings.api_key_env if settings else "OPENAI_API_KEY"
    )
    config = LlmConfig(base_url=base_url, model=model, api_key_env=key_env)
    attempts = 2
    if settings is not None:
        config = dataclasses.replace(
            config, timeout_s=settings.timeout_s, max_retries=settings.max_retries, budget_s=settings.budget_s
        )
        attempts = settings.max_attempts
    return LlmDrafter(config, progress=None if quiet else progress), attempts


POSTGRES_HINT = "pip install 'driftctl[postgres]' (psycopg 3); the URL looks like postgresql+psycopg://…"


def postgres_url(url: str) -> str:
    """A bare ``postgres(ql)://`` URL with the psycopg 3 driver driftctl ships (SQLAlchemy's default
    is psycopg2, which the ``postgres`` extra does not install)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def open_store(
    config_path: Path | None,
    database: str | None,
    *,
    read_only: bool,
    announce: bool = True,
    writes: bool = False,
) -> Any:
    """The store ``--database``/``$DRIFTCTL_DATABASE_URL`` names, else SQLite next to the config.

    A command that only reads (``read_only``) never creates a database: a missing SQLite file is an
    error naming where it looked, not an empty trail. ``announce`` prints which store, one line on stderr.
    ``writes``: the command changes an existing store (approve, apply): it must not be created, yet
    a SQLite file driftctl cannot write is an error up front, not a read-only store.
    """
    from driftctl.audit.store import Store, default_database_path
    from driftctl.config import find_config

    url = (database or os.environ.get(DATABASE_URL_ENV, "")).strip()
    db = default_database_path(config_path or find_config())
    if not url:
        if read_only and not db.is_file():
            raise DriftctlError(
                f"no audit trail at {db}",
                hint="run `driftctl reconcile` first, or name the store with --database or "
                f"${DATABASE_URL_ENV} (or the config with --config / $DRIFTCTL_CONFIG)",
            )
        try:
            db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise DriftctlError(
                f"cannot create {db.parent} for the driftctl database: {exc.strerror or exc}",
                hint="driftctl keeps its database and saved plans in .driftctl/ next to driftctl.yaml: "
                f"make that directory writable, or name a store with --database / ${DATABASE_URL_ENV}",
            ) from None
        url = f"sqlite:///{db}"
    elif read_only and url.startswith("sqlite:///"):
        file = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        if str(file) not in ("", ":memory:") and not file.is_file():
            raise DriftctlError(f"no audit trail at {file}", hint=f"check --database / ${DATABASE_URL_ENV}")
    url = postgres_url(url)
    if url.startswith("postgresql+psycopg:"):
        try:
            importlib.import_module("psycopg")
        except ImportError:
            raise DriftctlError(
                "the database URL is PostgreSQL but psycopg is not installed", hint=POSTGRES_HINT
            ) from None
    # A SQLite file driftctl cannot write (read-only directory or file) is opened read-only by a
    # command that only reads; a writer stops with one error naming it.
    store = Store(url, _keyring(config_path or find_config(), db, url), read_only=read_only and not writes)
    if announce:
        progress(f"store: {store.display_url}")
    return store


def _keyring(config_path: Path | None, db: Path, url: str) -> Any:
    """The audit key(s) the config names; else none here (the store keeps ``audit.key`` next to a
    SQLite file), but ``audit.key`` next to the default database for a shared (non-SQLite) one."""
    from driftctl.audit.keys import KEY_FILE_NAME, configured_keyring, load_keyring

    configured = configured_keyring(config_path)
    if configured is None and not url.startswith("sqlite"):
        return load_keyring(db.parent / KEY_FILE_NAME)
    return configured


def runtime(
    config_path: Path | None,
    quiet: bool,
    *,
    database: str | None = None,
    read_only: bool = False,
    announce: bool | None = None,
    writes: bool = False,
    **options: Any,
) -> tuple[Any, Any]:
    """The store, data directory and options every reconcile-side command shares, and the config path.

    ``announce`` (default: not ``quiet``) prints which store is used, one line on stderr."""
    from driftctl.audit.store import default_database_path
    from driftctl.config import find_config
    from driftctl.detect.engine import Policy
    from driftctl.detect.severity import load_severity_rules
    from driftctl.reconcile.pipeline import ReconcileOptions, Runtime

    path = config_path or find_config()
    db = default_database_path(path)
    store = open_store(
        path,
        database,
        read_only=read_only,
        announce=not quiet if announce is None else announce,
        writes=writes,
    )
    rt = Runtime(
        store=store,
        data_dir=db.parent,
        policy=Policy(load_severity_rules(None)),
        options=ReconcileOptions(**options),
        progress=(lambda _m: None) if quiet else progress,
        shared_lock=not store.url.startswith("sqlite"),
    )
    return rt, path


def one_target(workspace: str, config_path: Path | None) -> Any:
    from driftctl.detect.targets import resolve_targets

    targets, _ = resolve_targets((workspace,), config_path, ())
    return targets[0]


def open_sandbox(directory: Path | None, show_progress: bool = True) -> Any:
    from driftctl.sandbox.layout import SandboxLayout
    from driftctl.sandbox.sandbox import Sandbox

    return Sandbox(SandboxLayout.resolve(directory), progress=progress if show_progress else None)
