"""The long-lived checkov worker: the same answers as one checkov run per scan, reused, failing closed.

A fake interpreter (a shell script standing where checkov's venv keeps ``python``) plays a worker that
dies, hangs or prints garbage; the real one runs against captured fix plans.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from driftctl.assess import checkov_scan
from driftctl.assess.checkov_process import POOL, CheckovWorker, WorkerFailure, WorkerPool, interpreter_of
from driftctl.assess.checkov_scan import CheckovError, resolve_checkov, scan_fix

FIXES = Path(__file__).parents[2] / "fixtures" / "fixes"

FAKE_WORKER = """#!/bin/sh
echo '{"ready": true, "checkov_version": "fake"}'
case "$FAKE_MODE" in
  exit) read line; echo "checkov blew up" >&2; exit 3 ;;
  hang) read line; exec sleep 60 ;;
  garbage) read line; echo 'this is not json' ;;
  error) read line; echo '{"error": "ValueError: bad plan"}' ;;
  once)
    if [ -e "$FAKE_MARK" ]; then
      while read line; do echo '{"report": {"summary": {"resource_count": 0}}}'; done
    else
      touch "$FAKE_MARK"; read line; exit 3
    fi ;;
esac
"""


def fake_interpreter(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, text in (("python", FAKE_WORKER), ("checkov", "#!/bin/sh\nexit 2\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod((bin_dir / name).stat().st_mode | stat.S_IXUSR)
    return bin_dir / "python"


def env_with(mode: str, mark: Path | None = None) -> Any:
    def environment(home: Path) -> dict[str, str]:
        env = {"PATH": os.environ["PATH"], "HOME": str(home), "FAKE_MODE": mode}
        if mark is not None:
            env["FAKE_MARK"] = str(mark)
        return env

    return environment


def test_the_interpreter_is_found_beside_checkov(tmp_path: Path) -> None:
    python = fake_interpreter(tmp_path)
    assert interpreter_of(python.parent / "checkov") == python
    lone = tmp_path / "lone" / "checkov"
    lone.parent.mkdir()
    lone.write_text("#!/bin/sh\n")
    assert interpreter_of(lone) is None  # → one checkov process per scan, as before


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("exit", "exited 3 during the scan"),
        ("hang", "did not finish the scan in time"),
        ("garbage", "printed b'this is not json'"),
        ("error", "checkov failed: ValueError: bad plan"),
    ],
)
def test_a_worker_that_gives_no_answer_fails_closed(tmp_path: Path, mode: str, message: str) -> None:
    worker = CheckovWorker(fake_interpreter(tmp_path), env_with(mode))
    try:
        with pytest.raises(WorkerFailure, match=message) as caught:
            worker.scan([tmp_path / "before.json"], timeout=2)
        if mode == "exit":
            assert "checkov blew up" in caught.value.stderr
    finally:
        worker.kill()
    assert not worker.alive


def test_after_a_failure_the_next_scan_starts_a_fresh_worker(tmp_path: Path) -> None:
    pool = WorkerPool()
    python = fake_interpreter(tmp_path)
    environment = env_with("once", tmp_path / "mark")
    try:
        with pytest.raises(WorkerFailure):
            pool.scan(python, environment, [tmp_path / "a.json"], timeout=5)
        assert pool.pids() == []
        assert pool.scan(python, environment, [tmp_path / "a.json"], timeout=5) == {
            "summary": {"resource_count": 0}
        }
        first = pool.pids()
        pool.scan(python, environment, [tmp_path / "a.json"], timeout=5)
        assert pool.pids() == first and len(first) == 1  # reused, not restarted
    finally:
        pool.close()
    assert pool.pids() == []


@pytest.mark.slow
def test_the_real_worker_answers_like_a_checkov_run(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        binary = resolve_checkov()
    except CheckovError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no checkov: {exc.message}")
    if interpreter_of(binary) is None:
        pytest.skip(f"{binary} has no interpreter of its own beside it")
    doc = json.loads((FIXES / "adopt_sg_open.json").read_text())
    checkov_scan.warm_up()
    by_worker = scan_fix(doc)
    pids = POOL.pids()
    again = scan_fix(json.loads((FIXES / "revert_sg_open.json").read_text()))
    assert POOL.pids() == pids and len(pids) == 1  # one worker served both scans
    monkeypatch.setenv("DRIFTCTL_CHECKOV_WORKER", "0")
    assert scan_fix(doc) == by_worker  # the one-shot CLI, same verdict
    assert by_worker.new_failures and not again.new_failures
