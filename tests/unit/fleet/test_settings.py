"""The fleet: config section, the worker command's errors, and the caps on a real PostgreSQL (I/O: files,
subprocesses, Postgres)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftctl.config import load_config
from driftctl.errors import ConfigError
from driftctl.fleet.jobs import conninfo
from driftctl.fleet.settings import FleetSettings
from driftctl.fleet.throttle import FLEET_CLASS, NoSlot, account_class, slots


def _config(tmp_path: Path, fleet: str) -> Path:
    path = tmp_path / "driftctl.yaml"
    path.write_text(
        "version: 1\nworkspaces:\n  - name: prod-web\n    path: web\n  - name: legacy-db\n    path: db\n"
        + fleet
    )
    return path


def test_the_fleet_section_loads_with_defaults_opt_outs_and_accounts(tmp_path: Path) -> None:
    cfg = load_config(
        _config(
            tmp_path,
            "fleet:\n  sweep: '*/5 * * * * *'\n  max_per_account: 2\n  opt_out: ['legacy-*']\n"
            "  accounts: {'prod-*': '111111111111'}\n",
        )
    )
    assert cfg.fleet is not None
    assert cfg.fleet.opted_out("legacy-db") and not cfg.fleet.opted_out("prod-web")
    assert cfg.fleet.account_of("prod-web") == "111111111111"
    assert cfg.fleet.account_of("legacy-db") == "default"
    assert cfg.fleet.stalled_after_s == 30.0 and cfg.fleet.events is None
    assert load_config(_config(tmp_path, "")).fleet is None


@pytest.mark.parametrize(
    ("fleet", "message"),
    [
        ("fleet:\n  sweep: 'every minute'\n", "fleet.sweep"),
        ("fleet:\n  max_concurent: 3\n", "fleet.max_concurent"),
        ("fleet:\n  max_concurrent: 0\n", "fleet.max_concurrent"),
        ("fleet:\n  events: {debounce_s: 3}\n", "fleet.events.queue_url"),
    ],
)
def test_a_bad_fleet_section_is_a_config_error_naming_the_key(
    tmp_path: Path, fleet: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(_config(tmp_path, fleet))


def test_the_queue_needs_postgres() -> None:
    assert conninfo("postgresql+psycopg://u@h:5432/db") == "postgresql://u@h:5432/db"
    with pytest.raises(ConfigError, match="needs a PostgreSQL store"):
        conninfo("sqlite:///tmp/x.db")


def _worker(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    base = {k: v for k, v in os.environ.items() if k != "DRIFTCTL_DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "driftctl.cli", "worker", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**base, **(env or {})},
        timeout=120,
    )


def test_the_worker_command_says_what_is_missing(tmp_path: Path) -> None:
    config = _config(tmp_path, "")
    no_db = _worker(tmp_path, "-c", str(config))
    assert no_db.returncode == 1 and "DRIFTCTL_DATABASE_URL" in no_db.stderr
    assert "Traceback" not in no_db.stderr
    sqlite = _worker(tmp_path, "-c", str(config), "--database", f"sqlite:///{tmp_path}/x.db")
    assert sqlite.returncode == 1 and "needs a PostgreSQL store" in sqlite.stderr
    events = _worker(tmp_path, "-c", str(config), "--events", "--database", "postgresql://u@127.0.0.1:1/x")
    assert events.returncode == 1 and "fleet.events" in events.stderr


def test_account_classes_never_collide_with_the_fleet_class() -> None:
    assert account_class("111111111111") != FLEET_CLASS
    assert account_class("a") == account_class("a") != account_class("b")


@pytest.mark.slow
def test_caps_hold_across_connections_and_free_when_one_closes(postgres_url: str) -> None:
    url = conninfo(postgres_url)
    with slots(url, fleet_cap=2, account="a", account_cap=1):
        # account a is full; the fleet has room
        with pytest.raises(NoSlot, match="account a"), slots(url, fleet_cap=2, account="a", account_cap=1):
            pass
        with (
            slots(url, fleet_cap=2, account="b", account_cap=1),
            pytest.raises(NoSlot, match="all 2 fleet slots"),
            slots(url, fleet_cap=2, account="c", account_cap=1),
        ):
            pass
    with slots(url, fleet_cap=2, account="a", account_cap=1):  # closed connections gave them back
        pass
    with slots(url, fleet_cap=None, account="a", account_cap=None):  # no caps: no connection at all
        pass


def test_settings_defaults_are_sane() -> None:
    s = FleetSettings()
    assert s.lock_ttl_s > s.heartbeat_s and s.stalled_after_s > s.heartbeat_s
    assert s.max_concurrent is None and s.opt_out == []


def test_the_app_has_the_fleets_tasks_and_periodic_schedules(tmp_path: Path) -> None:
    from driftctl.fleet.jobs import Fleet, build_app

    settings = FleetSettings(sweep="*/5 * * * * *", stalled_after_s=8.0)
    app = build_app(Fleet(tmp_path / "driftctl.yaml", "postgresql+psycopg://u@127.0.0.1:1/db", settings))
    assert {
        "driftctl.reconcile",
        "driftctl.sweep",
        "driftctl.recover_stalled",
        "driftctl.remove_old_jobs",
    } <= set(app.tasks)
    crons = {pt.task.name: pt.cron for pt in app.periodic_registry.periodic_tasks.values()}
    assert crons == {
        "driftctl.sweep": "*/5 * * * * *",
        "driftctl.recover_stalled": "* * * * * */4",
        "driftctl.remove_old_jobs": "17 * * * *",
    }
