"""A reattached long-lived provider: Terraform starts no provider, and drift still shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.reattach import running_provider
from driftctl.sandbox.sandbox import Sandbox
from driftctl.sandbox.server import is_alive
from driftctl.terraform import resolve_binary

pytestmark = pytest.mark.slow


def test_reattached_provider_serves_plans_and_stops_with_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default resolution: a PATH terraform if there is one, else the embedded one.
    sandbox = Sandbox(SandboxLayout(tmp_path / "sb"), binary=resolve_binary())
    trace = tmp_path / "starts.txt"
    try:
        sandbox.up(reattach=True)
        daemon = running_provider(sandbox.layout)
        assert daemon is not None
        assert sandbox.env()["TF_REATTACH_PROVIDERS"] == daemon.reattach

        monkeypatch.setenv("DRIFTCTL_PROVIDER_TRACE", str(trace))
        tf = sandbox.terraform()
        assert tf.plan().changes is False
        sandbox.drift("log-retention", params={"days": "3"})
        tf.plan(refresh_only=True, out=tmp_path / "r.tfplan")
        drift = tf.show_json(tmp_path / "r.tfplan")["resource_drift"]
        assert [d["address"] for d in drift] == ["module.app.aws_cloudwatch_log_group.app"]
        assert drift[0]["change"]["after"]["retention_in_days"] == 3
        assert not trace.exists(), "Terraform started a provider although one was reattached"

        # Going back to per-command providers stops the daemon and still works (and `up`
        # re-applies the stack, which heals the drift).
        assert sandbox.up(reattach=False).changed
        assert running_provider(sandbox.layout) is None
        assert not is_alive(daemon.pid)
        assert "TF_REATTACH_PROVIDERS" not in sandbox.env()
        assert sandbox.terraform().plan().changes is False
        assert trace.exists()
    finally:
        sandbox.down()
    assert not sandbox.layout.root.exists()
