"""`driftctl reconcile`, `approve`/`reject`/`apply`, `breaker` and `audit` end to end, as a user runs them.

Every command is a real subprocess against a sandbox (moto + real Terraform, reattached provider);
each test has its own audit database (``DRIFTCTL_DATABASE_URL``), so the hourly apply limit and
the breaker of one test never leak into another. Before each test every drift is healed with a
full ``plan -out`` + ``apply``.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftctl.audit.store import Entry, Store
from driftctl.sandbox.layout import SandboxLayout
from driftctl.sandbox.sandbox import Sandbox

pytestmark = pytest.mark.slow

SG = "module.app.module.network.aws_security_group.web"
QUEUE = "module.app.aws_sqs_queue.jobs[0]"
LOG_GROUP = "module.app.aws_cloudwatch_log_group.app"
CANARY = "CANARY-5e1d7b"  # a sensitive value that must never leave Terraform's own files


# -- helpers -------------------------------------------------------------------------------------------


def heal(sb: Sandbox) -> None:
    """Put reality back to the code: a full plan and apply (no targets)."""
    tf = sb.terraform()
    plan_file = sb.layout.root / "heal.tfplan"
    tf.plan(out=plan_file)
    tf.apply(plan_file)
    plan_file.unlink()


def drift(sb: Sandbox, name: str) -> str:
    """One named out-of-band change; returns the address it drifted."""
    if name == "sg":
        sb.drift("sg-open-world")
        return SG
    if name == "queue":
        sb.drift("queue-visibility", address=QUEUE)
        return QUEUE
    raise ValueError(name)


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "driftctl.cli", *args]


def cli_env(db: Path) -> dict[str, str]:
    return {**os.environ, "DRIFTCTL_DATABASE_URL": f"sqlite:///{db}"}


def cli(db: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_argv(*args), env=cli_env(db), capture_output=True, text=True, timeout=timeout, check=False
    )


def reconcile_argv(config: Path, mode: str, *extra: str) -> list[str]:
    return cli_argv("reconcile", "-c", str(config), "--mode", mode, "-o", "json", "-q", *extra)


def reconcile(
    config: Path, db: Path, mode: str = "auto", *extra: str, checkov: bool = False
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    argv = reconcile_argv(config, mode, *extra, *(() if checkov else ("--no-checkov",)))
    proc = subprocess.run(argv, env=cli_env(db), capture_output=True, text=True, timeout=600, check=False)
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(f"reconcile printed no JSON (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc, doc


def items(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (ws,) = doc["workspaces"]
    return {i["address"]: i for i in ws["items"]}


def detected(config: Path) -> set[str]:
    """Addresses a fresh `driftctl detect` reports as drifted."""
    proc = subprocess.run(
        cli_argv("detect", "-c", str(config), "-o", "json"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 2), proc.stderr
    (ws,) = json.loads(proc.stdout)["workspaces"]
    return {f["address"] for f in ws["findings"]}


def audit(db: Path) -> list[Entry]:
    with Store(f"sqlite:///{db}") as store:
        return store.entries()


def rows(
    entries: list[Entry], kind: str, status: str | None = None, subject: str | None = None
) -> list[Entry]:
    return [
        e
        for e in entries
        if e.kind == kind
        and (status is None or e.status == status)
        and (subject is None or e.subject == subject)
    ]


def proposals(db: Path, config: Path) -> dict[str, dict[str, Any]]:
    proc = cli(db, "proposals", "-c", str(config), "--all", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    return {p["id"]: p for p in json.loads(proc.stdout)}


def with_defaults(sb: Sandbox, name: str, **defaults: Any) -> Path:
    """A copy of the sandbox's driftctl.yaml (same directory, so relative paths hold) with ``defaults``."""
    config = yaml.safe_load(sb.layout.config_file.read_text())
    config["defaults"] = defaults
    path = sb.layout.root / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def sb(fast_sandbox: Sandbox) -> Sandbox:
    heal(fast_sandbox)
    return fast_sandbox


@pytest.fixture
def config(sb: Sandbox) -> Path:
    return sb.layout.config_file


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "driftctl.db"


# -- 1. auto mode heals what it may and proposes the rest ---------------------------------------------


def test_auto_heals_reverts_and_proposes_the_benign_tag(sb: Sandbox, config: Path, db: Path) -> None:
    drift(sb, "sg")
    drift(sb, "queue")
    sb.drift("tag", address=LOG_GROUP, params={"key": "owner", "value": "alice-e2e"})

    proc, doc = reconcile(config, db, "auto")

    assert proc.returncode == 2, proc.stderr  # drift remains: the tag waits for a human
    got = items(doc)
    assert got[SG]["outcome"] == "healed"
    assert got[QUEUE]["outcome"] == "healed"
    tag = got[LOG_GROUP]
    assert (tag["outcome"], tag["strategy"]) == ("proposed", "adopt")
    assert detected(config) == {LOG_GROUP}  # the reverts are really gone; the tag is untouched

    saved = proposals(db, config)[tag["proposal_id"]]
    assert saved["status"] == "pending"
    patch = Path(saved["patch_path"])  # the sandbox is not a git repository: a patch, not a branch
    assert saved["branch"] is None
    added = [line for line in patch.read_text().splitlines() if line.startswith("+") and "owner" in line]
    assert added and "alice-e2e" in added[0], patch.read_text()

    verify = cli(db, "audit", "verify", "-c", str(config))
    assert verify.returncode == 0, verify.stdout + verify.stderr

    entries = audit(db)
    for address in (SG, QUEUE):
        (started,) = rows(entries, "action", "started", address)
        scored = rows(entries, "proposal", "verified", address)[-1].data["plan_sha256"]
        assert started.data["auto"] is True
        assert started.data["plan_sha256"] == scored  # applied exactly the plan that was scored
        (finished,) = rows(entries, "action", "finished", address)
        assert finished.data["started_seq"] == started.seq
        assert finished.data["plan_sha256"] == scored
        (confirmed,) = rows(entries, "action", "confirmed", address)
        assert confirmed.data["confirms_seq"] == started.seq
    assert not rows(entries, "action", subject=LOG_GROUP)  # an adopt is never applied on its own


# -- 2. two reconcilers at once never apply twice -----------------------------------------------------

RACE_ROUNDS = 20


# -- 3. a reconciler killed during an apply ------------------------------------------------------------


def _wait_for_started_action(db: Path, proc: subprocess.Popen[str], deadline: float) -> int | None:
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                    found = conn.execute(
                        "SELECT seq FROM driftctl_audit WHERE kind = 'action' AND status = 'started'"
                    ).fetchone()
            except sqlite3.OperationalError:  # tables not created yet
                found = None
            if found is not None:
                return int(found[0])
        time.sleep(0.01)
    return None


def test_sigkill_during_apply_is_recovered_by_the_next_run(sb: Sandbox, config: Path, db: Path) -> None:
    address = drift(sb, "sg")
    proc = subprocess.Popen(
        reconcile_argv(config, "auto", "--no-checkov"),
        env=cli_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started_seq = _wait_for_started_action(db, proc, time.monotonic() + 120)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)  # driftctl only: its Terraform runs in its own process group
    out, err = proc.communicate(timeout=60)
    assert started_seq is not None, f"no apply started before the reconciler ended: {out}\n{err}"
    assert proc.returncode == -signal.SIGKILL
    closed = [e for e in audit(db) if e.kind == "action" and e.data.get("started_seq") == started_seq]
    assert not closed, "the kill came after the apply was recorded as finished: nothing to recover"
    # Its scratch (saved plans hold state) is left under .driftctl/tmp, never in /tmp (issue 16 item 8).
    left = list((sb.layout.root / ".driftctl" / "tmp").glob(f"driftctl-reconcile-{proc.pid}-*"))
    assert len(left) == 1
    assert not list(Path(tempfile.gettempdir()).glob(f"driftctl-*-{proc.pid}-*"))

    # The orphaned Terraform may still hold the state lock for a moment: the next run retries.
    again, doc = reconcile(config, db, "auto")
    assert again.returncode in (0, 3), again.stderr
    (ws,) = doc["workspaces"]
    assert any(f"action {started_seq} " in note for note in ws["recovered"]), ws
    assert any(note.startswith(f"removed {left[0].name}") for note in ws["recovered"]), ws
    assert not left[0].exists()
    entries = audit(db)
    (interrupted,) = rows(entries, "action", "interrupted", address)
    assert interrupted.data["started_seq"] == started_seq
    assert address not in detected(config)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))  # no row lost
    verify = cli(db, "audit", "verify", "-c", str(config))
    assert verify.returncode == 0, verify.stdout
    # A third run finds nothing dangling any more.
    third, doc = reconcile(config, db, "auto")
    assert third.returncode == 0 and doc["workspaces"][0]["recovered"] == []


# -- 4. a tampered audit trail is caught ---------------------------------------------------------------


def _copy_db(src: Path, dst: Path) -> Path:
    source, copy = sqlite3.connect(src), sqlite3.connect(dst)
    source.backup(copy)
    source.close()
    copy.close()
    return dst


def _tamper(db: Path, sql: str, *args: Any) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(sql, args)
    conn.close()


def test_audit_verify_catches_edited_and_deleted_rows(
    sb: Sandbox, config: Path, db: Path, tmp_path: Path
) -> None:
    drift(sb, "queue")
    proc, _ = reconcile(config, db, "auto")
    assert proc.returncode == 3, proc.stderr
    entries = audit(db)
    last = entries[-1].seq
    assert last > 5
    assert cli(db, "audit", "verify").returncode == 0

    (started,) = rows(entries, "action", "started", QUEUE)
    edited = _copy_db(db, tmp_path / "edited.db")
    forged = json.dumps({**started.data, "plan_sha256": "0" * 64}, sort_keys=True)
    _tamper(edited, "UPDATE driftctl_audit SET data = ? WHERE seq = ?", forged, started.seq)
    out = cli(edited, "audit", "verify")
    assert out.returncode == 1
    assert f"seq {started.seq}: MAC does not match" in out.stdout

    middle = _copy_db(db, tmp_path / "middle.db")
    _tamper(middle, "DELETE FROM driftctl_audit WHERE seq = ?", last // 2)
    out = cli(middle, "audit", "verify")
    assert out.returncode == 1
    assert f"seq {last // 2} missing" in out.stdout

    tail = _copy_db(db, tmp_path / "tail.db")
    _tamper(tail, "DELETE FROM driftctl_audit WHERE seq = ?", last)
    out = cli(tail, "audit", "verify")
    assert out.returncode == 1
    assert f"the head says seq {last} but the last row is seq {last - 1}" in out.stdout


# -- 5. a sensitive value never leaves Terraform's files -----------------------------------------------

CANARY_BUCKET = 'module.storage["assets"].aws_s3_bucket.this'


@pytest.fixture
def canary_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of its own whose buckets, security group and queues carry a tag fed by a sensitive
    variable (so a revert's saved plan holds it, marked sensitive)."""
    sandbox = Sandbox(SandboxLayout(tmp_path_factory.mktemp("canary-sandbox")))
    try:
        sandbox.up(reattach=True)
        main_tf = sandbox.layout.stack_root / "terraform/sandbox/main.tf"
        text = main_tf.read_text()
        for old, new in (
            (
                "tags = merge(local.tags, { data = each.key })",
                "tags = merge(local.tags, { data = each.key, secret = var.canary })",
            ),
            ("tags = local.tags", "tags = merge(local.tags, { secret = var.canary })"),
        ):
            assert old in text
            text = text.replace(old, new)
        variable = 'variable "canary" {\n  type      = string\n  sensitive = true\n  default   = "%s"\n}\n'
        main_tf.write_text(text + "\n" + variable % CANARY)
        heal(sandbox)
        yield sandbox
    finally:
        sandbox.down()


def test_sensitive_value_appears_in_no_output(canary_sandbox: Sandbox, tmp_path: Path) -> None:
    sb = canary_sandbox
    config = sb.layout.config_file
    state = (sb.layout.workspace / "terraform.tfstate").read_text()
    assert state.count(CANARY) > 4  # the canary is really in play: buckets, security group, queues
    db = tmp_path / "canary.db"
    outputs: list[str] = []

    def drift_all() -> None:
        drift(sb, "sg")  # a revert whose plan carries the security group's sensitive tag
        drift(sb, "queue")
        sb.drift("tag", address=LOG_GROUP, params={"key": "owner", "value": "bob"})  # an adopt: a patch
        # the sensitive tag itself changes: its old value would show in any plan of a revert
        sb.drift("tag", address=CANARY_BUCKET, params={"key": "secret", "value": "x"})

    drift_all()
    proc, doc = reconcile(config, db, "auto", checkov=True)
    outputs += [proc.stdout, proc.stderr]
    assert proc.returncode == 2, proc.stderr
    got = items(doc)
    assert got[SG]["outcome"] == got[QUEUE]["outcome"] == "healed"
    assert got[LOG_GROUP]["outcome"] == "proposed" and got[LOG_GROUP]["strategy"] == "adopt"
    assert CANARY_BUCKET in got

    heal(sb)
    drift_all()
    proc, doc = reconcile(config, db, "propose")
    outputs += [proc.stdout, proc.stderr]
    assert proc.returncode == 2, proc.stderr
    assert items(doc)[SG]["outcome"] == "proposed"  # its saved plan is kept for `driftctl apply`
    console = cli(db, "reconcile", "-c", str(config), "--mode", "propose", "--no-checkov")  # the console form
    outputs += [console.stdout, console.stderr]

    for args in (
        ("audit", "list"),
        ("proposals", "--all", "-o", "json"),
        ("proposals",),
        ("audit", "export"),
    ):
        out = cli(db, *args, "-c", str(config))
        assert out.returncode == 0, out.stderr
        outputs += [out.stdout, out.stderr]
    assert "sensitive" in outputs[-2]  # the export holds the masked findings

    for text in outputs:
        assert CANARY not in text
    patches = list((sb.layout.root / ".driftctl" / "patches").glob("*.patch"))
    assert patches
    for patch in patches:
        assert CANARY not in patch.read_text(), patch
    for path in db.parent.glob(db.name + "*"):  # the database, its -wal and -shm
        assert CANARY.encode() not in path.read_bytes(), path
    # Saved plans (.driftctl/plans, mode 0600) hold state by nature, the canary included: not checked.


# -- 6. an approved plan that went stale is re-planned, never applied ---------------------------------


def test_apply_of_a_stale_approved_plan_replans(sb: Sandbox, config: Path, db: Path) -> None:
    drift(sb, "queue")
    sb.drift("tag", address=LOG_GROUP, params={"key": "owner", "value": "carol"})
    proc, doc = reconcile(config, db, "propose")
    assert proc.returncode == 2, proc.stderr
    got = items(doc)
    assert (got[QUEUE]["outcome"], got[QUEUE]["strategy"]) == ("proposed", "revert")
    pid, tag_pid = got[QUEUE]["proposal_id"], got[LOG_GROUP]["proposal_id"]
    saved = proposals(db, config)[pid]
    original_sha = saved["plan_sha256"]
    assert saved["status"] == "pending" and original_sha and Path(saved["plan_path"]).is_file()

    # applying before approval, and approving twice, are refused with a clear message
    early = cli(db, "apply", pid, "-c", str(config), "--no-checkov")
    assert early.returncode == 1 and f"driftctl approve {pid}" in early.stderr + early.stdout
    assert cli(db, "approve", pid, "-c", str(config)).returncode == 0
    again = cli(db, "approve", pid, "-c", str(config))
    assert again.returncode == 1
    assert "is approved; only a pending proposal can be approved" in again.stderr + again.stdout

    rejected = cli(db, "reject", tag_pid, "-c", str(config), "--reason", "owner tag is not ours")
    assert rejected.returncode == 0, rejected.stderr
    (rejection,) = rows(audit(db), "approval", "rejected", LOG_GROUP)
    assert rejection.data["reason"] == "owner tag is not ours"
    assert rejection.data["proposal"] == tag_pid

    # The state moves under the approved plan: another resource drifts and is refreshed into state.
    serial = json.loads((sb.layout.workspace / "terraform.tfstate").read_text())["serial"]
    drift(sb, "sg")
    # Targeted: a full refresh-only apply would also write the queue's drift into state.
    refresh = ("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color", f"-target={SG}")
    sb.terraform().run(refresh)
    assert json.loads((sb.layout.workspace / "terraform.tfstate").read_text())["serial"] > serial

    applied = cli(db, "apply", pid, "-c", str(config), "--no-checkov", "-o", "json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    result = json.loads(applied.stdout)
    assert result["status"] == "applied" and result["replanned"] is True
    assert result["plan_sha256"] != original_sha

    entries = audit(db)
    (stale,) = rows(entries, "decision", "stale", QUEUE)
    assert stale.data["proposal"] == pid and stale.data["plan_sha256"] == original_sha
    (started,) = rows(entries, "action", "started", QUEUE)
    assert started.seq > stale.seq
    assert started.data["proposal"] == pid and started.data["auto"] is False
    assert started.data["plan_sha256"] == result["plan_sha256"] != original_sha
    assert rows(entries, "action", "confirmed", QUEUE)
    assert QUEUE not in detected(config)
    assert proposals(db, config)[pid]["status"] == "applied"


# -- 7. the breaker and the hourly limit keep auto mode in check --------------------------------------


def test_open_breaker_turns_auto_into_propose_until_reset(sb: Sandbox, config: Path, db: Path) -> None:
    with Store(f"sqlite:///{db}") as store:
        assert store.record_heal("sandbox", False, 1, reason="a heal that did not take").open
    drift(sb, "sg")

    proc, doc = reconcile(config, db, "auto")
    assert proc.returncode == 2, proc.stderr
    item = items(doc)[SG]
    assert item["outcome"] == "proposed" and item["decision"] == "propose"
    assert "the breaker is open" in item["rationale"]
    assert not rows(audit(db), "action", "started")
    status = cli(db, "breaker", "status", "-c", str(config), "-o", "json")
    assert json.loads(status.stdout)[0]["open"] is True

    reset = cli(db, "breaker", "reset", "sandbox", "-c", str(config))
    assert reset.returncode == 0, reset.stderr
    proc, doc = reconcile(config, db, "auto")
    assert proc.returncode == 3, proc.stderr
    assert items(doc)[SG]["outcome"] == "healed"
    assert rows(audit(db), "alert", "breaker_reset")


def test_hourly_limit_heals_one_and_proposes_the_other(sb: Sandbox, db: Path) -> None:
    config = with_defaults(sb, "limited.yaml", max_applies_per_hour=1)
    drift(sb, "sg")
    drift(sb, "queue")

    proc, doc = reconcile(config, db, "auto")
    assert proc.returncode == 2, proc.stderr
    got = items(doc)
    outcomes = sorted(got[a]["outcome"] for a in (SG, QUEUE))
    assert outcomes == ["healed", "proposed"]
    held = next(i for i in got.values() if i["outcome"] == "proposed")
    assert "hourly limit" in held["rationale"]
    assert len(rows(audit(db), "action", "started")) == 1
    assert detected(config) == {held["address"]}


# -- 8. dry run, and a Terraform state lock held by someone else ----------------------------------------


def test_dry_run_decides_but_applies_and_saves_nothing(sb: Sandbox, config: Path, db: Path) -> None:
    address = drift(sb, "sg")
    run, doc = reconcile(config, db, "auto", "--dry-run")
    assert run.returncode == 2, run.stderr
    assert items(doc)[address]["outcome"] == "would_apply"
    assert address in detected(config)  # nothing applied
    entries = audit(db)
    assert not [e for e in entries if e.kind == "action"]
    assert cli(db, "proposals", "-c", str(config), "--all", "-o", "json").stdout.strip() == "[]"
    (started,) = rows(entries, "run", "started")
    assert started.data["dry_run"] is True


def test_a_held_state_lock_is_retried_then_the_workspace_is_skipped(
    sb: Sandbox, config: Path, db: Path
) -> None:
    address = drift(sb, "queue")
    lock_info = sb.layout.workspace / ".terraform.tfstate.lock.info"
    # A colleague's `terraform apply` waiting at its "Enter a value:" prompt holds the state lock.
    holder = subprocess.Popen(
        [*sb.binary().command, "apply", "-no-color", "-input=true"],
        cwd=sb.layout.workspace,
        env={**os.environ, **sb.env()},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not lock_info.exists():
            assert holder.poll() is None and time.monotonic() < deadline, "the apply never took the lock"
            time.sleep(0.05)
        started = time.monotonic()
        run, doc = reconcile(config, db, "auto")
        waited = time.monotonic() - started
    finally:
        assert holder.stdin is not None
        holder.communicate("no\n", timeout=60)  # the colleague declines: the lock is released
    (ws,) = doc["workspaces"]
    assert run.returncode == 4, run.stderr
    assert ws["status"] == "skipped" and "Terraform state locked" in ws["alerts"][0]
    assert waited > 1.5  # it retried with backoff before giving up
    assert rows(audit(db), "alert", "skipped")
    assert not [e for e in audit(db) if e.kind == "action"]
    # Once the lock is free, the next run heals it.
    again, doc = reconcile(config, db, "auto")
    assert again.returncode == 3, again.stderr
    assert items(doc)[address]["outcome"] == "healed"
