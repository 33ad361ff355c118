"""The moto server's lifecycle: start, reuse, stop (a real moto process on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.server import is_alive, responds, running_server, start_server, stop_server


def test_start_reuse_stop(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path / "sb")
    server, started = start_server(layout)
    try:
        assert started
        assert server.endpoint.startswith("http://127.0.0.1:")
        assert responds(server.endpoint)
        again, started_again = start_server(layout)
        assert not started_again and again.pid == server.pid
        assert running_server(layout) == server
    finally:
        assert stop_server(layout) is True
    assert not is_alive(server.pid)
    assert not layout.server_file.exists()
    assert stop_server(layout) is False  # a second stop is harmless
    assert running_server(layout) is None


def test_a_dead_recorded_server_is_replaced(tmp_path: Path) -> None:
    layout = SandboxLayout(tmp_path / "sb")
    layout.root.mkdir(parents=True)
    layout.server_file.write_text(
        '{"pid": 999999, "port": 1, "endpoint": "http://127.0.0.1:1", "started_at": 0}'
    )
    assert running_server(layout) is None
    server, started = start_server(layout)
    try:
        assert started and server.pid != 999999
    finally:
        stop_server(layout)
