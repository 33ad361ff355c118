"""The `service:` section and `@every` schedules as driftctl.yaml reads them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from driftctl.config import check_cron, every_seconds, load_config
from driftctl.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ws").mkdir(exist_ok=True)
    path = tmp_path / "driftctl.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_every_schedules() -> None:
    assert every_seconds("@every 2s") == 2
    assert every_seconds("@every 10m") == 600
    assert every_seconds("*/5 * * * *") is None
    with pytest.raises(ValueError, match="interval"):
        check_cron("@every 0s")


def test_cron_is_checked_by_the_scheduler_too() -> None:
    assert check_cron("0 3 * * 1-5") == "0 3 * * 1-5"
    with pytest.raises(ValueError):
        check_cron("0 3 * * 8")


def test_the_service_section_is_read(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """\
            version: 1
            workspaces: [{name: a, path: ws, schedule: "@every 10s"}]
            service:
              listen: "0.0.0.0:9000"
              timezone: Europe/Paris
              maintenance:
                a: [{days: [sat, sun], start: "02:00", end: "05:00"}]
              notify:
                - {name: ops, kind: webhook, url_env: OPS_URL, secret_env: OPS_KEY, events: [healed]}
            """,
        )
    )
    assert config.service is not None
    assert config.service.listen == "0.0.0.0:9000"
    windows = config.service.windows_for("a")
    assert windows is not None and windows[0].days == ["sat", "sun"]
    assert config.service.windows_for("b") is None
    assert config.service.notify[0].events == ["healed"]


def test_service_mistakes_are_reported_with_file_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        version: 1
        workspaces: [{name: a, path: ws}]
        service:
          listen: nowhere
          timezone: Mars/Olympus
          maintenance:
            a: [{start: "25:00", end: "05:00"}]
          notify:
            - {name: ops, kind: webhook, url_env: "https://hooks.example/x"}
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = err.value.message
    for expected in ("service.listen", "service.timezone", "Mars/Olympus", "25:00", "url_env"):
        assert expected in message, message
