"""Two reconcilers started together on one workspace: exactly one acts, 20 rounds, never a double apply.

In its own module (and so its own sandbox) so it can run beside the other reconcile tests.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from driftctl.sandbox.sandbox import Sandbox
from tests.e2e.test_reconcile import (
    RACE_ROUNDS,
    audit,
    cli_env,
    config,
    detected,
    drift,
    reconcile_argv,
    rows,
    sb,
)

pytestmark = pytest.mark.slow

__all__ = ["config", "sb"]  # fixtures used here


def test_two_reconcilers_at_once_apply_each_drift_once(
    sb: Sandbox, config: Path, tmp_path: Path, record_property: Any
) -> None:
    skipped_rounds = sequential_rounds = 0
    for n in range(RACE_ROUNDS):
        address = drift(sb, "sg" if n % 2 == 0 else "queue")
        db = tmp_path / f"round{n}.db"
        # A brand-new database each round: both reconcilers also race to create it (a first run).
        argv = reconcile_argv(config, "auto", "--no-checkov")
        both = [
            subprocess.Popen(argv, env=cli_env(db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=300) for p in both]
        codes = sorted(p.returncode for p in both)
        assert all(out for out, _err in outs), f"round {n}: a reconciler printed no report: {outs}"
        docs = [json.loads(out) for out, _err in outs]
        statuses = sorted(d["workspaces"][0]["status"] for d in docs)

        entries = audit(db)
        applies = [e for e in rows(entries, "action", "started") if e.data.get("auto") is True]
        assert len(applies) == 1, f"round {n}: {len(applies)} applies of one drift: {codes} {outs}"
        assert applies[0].subject == address
        assert len(rows(entries, "action", "confirmed", address)) == 1
        if codes == [3, 4]:
            assert statuses == ["healed", "skipped"]
            skipped_rounds += 1
        else:  # the first finished before the second took the lock: it found nothing left to heal
            assert codes == [0, 3], f"round {n}: exit codes {codes}: {outs}"
            assert statuses == ["clean", "healed"]
            sequential_rounds += 1
    record_property("race_rounds_with_skip", skipped_rounds)
    record_property("race_rounds_sequential", sequential_rounds)
    print(f"\nrace: {skipped_rounds} rounds with a skip, {sequential_rounds} sequential")
    assert detected(config) == set()
