"""The public core: its names are pinned, its options are plain data, and it builds one runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import driftctl.core as core
from driftctl.audit.tables import ProposalRow
from driftctl.core import LlmSettings, ReconcileOptions
from driftctl.errors import ConfigError, DriftctlError

PUBLIC = [
    "ApplyResult",
    "ItemResult",
    "LlmSettings",
    "Outcome",
    "ReconcileOptions",
    "ReconcileReport",
    "Runtime",
    "Status",
    "StoredProposal",
    "Target",
    "WorkspaceResult",
    "apply_proposal",
    "approve_proposal",
    "build_runtime",
    "heal_finding",
    "list_proposals",
    "proposal_record",
    "reconcile",
    "reconcile_workspace",
    "reject_proposal",
    "resolve_workspaces",
]


def test_the_public_names_are_pinned() -> None:
    # Front doors (serve, PR comments, workers) code against these: a change here is a breaking change.
    assert sorted(core.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(core, name) is not None


def test_options_round_trip_through_json_for_a_job_queue() -> None:
    options = ReconcileOptions(
        mode="auto",
        dry_run=True,
        strategy="revert",
        drafter="llm",
        llm=LlmSettings(base_url="http://127.0.0.1:9/v1", model="m", api_key_env="MY_KEY", timeout=5),
        checkov=False,
        trigger="comment",
        requested_by="octocat",
    )
    payload = options.to_json()
    data = json.loads(payload)
    assert data["llm"]["api_key_env"] == "MY_KEY" and "api_key" not in data["llm"]
    assert ReconcileOptions.from_json(payload) == options
    assert ReconcileOptions.from_json(b"{}") == ReconcileOptions()


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ('{"mode": "yolo"}', "mode"),
        ('{"drafter": "gpt"}', "drafter"),
        ('{"strategy": "delete"}', "strategy"),
        ('{"llm_client": 1}', "llm_client"),
        ('{"dry_run": "yes"}', "dry_run"),
        ('{"llm": {"base_url": "http://x", "model": "m", "api_key_env": "A=secret"}}', "api_key_env"),
        ("not json", "not JSON"),
    ],
)
def test_bad_options_are_a_config_error_naming_the_field(payload: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        ReconcileOptions.from_json(payload)


def test_options_are_frozen_and_validated_when_built() -> None:
    options = ReconcileOptions()
    with pytest.raises(AttributeError):
        options.mode = "auto"  # type: ignore[misc]
    with pytest.raises(ConfigError, match="mode"):
        ReconcileOptions(mode="sometimes")  # type: ignore[arg-type]
    assert options.replace(mode="auto").mode == "auto"


def _config(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    path = tmp_path / "driftctl.yaml"
    path.write_text(
        "version: 1\n"
        "llm: {base_url: 'http://127.0.0.1:9/v1', model: coder, api_key_env: LLM_KEY, max_attempts: 1}\n"
        "workspaces:\n  - {name: one, path: ws}\n  - {name: two, path: ws, mode: auto}\n"
    )
    return path


def test_build_runtime_reads_the_config_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRIFTCTL_DATABASE_URL", raising=False)
    monkeypatch.delenv("DRIFTCTL_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("DRIFTCTL_LLM_MODEL", raising=False)
    rt = core.build_runtime(_config(tmp_path))
    assert rt.data_dir == tmp_path / ".driftctl"
    assert rt.store.url == f"sqlite:///{tmp_path / '.driftctl' / 'driftctl.db'}"
    assert rt.llm == LlmSettings(
        base_url="http://127.0.0.1:9/v1", model="coder", api_key_env="LLM_KEY", max_attempts=1
    )
    assert [t.name for t in core.resolve_workspaces([], rt)] == ["one", "two"]
    assert [t.mode for t in core.resolve_workspaces(["two"], rt)] == ["auto"]
    with pytest.raises(ConfigError, match="three"):
        core.resolve_workspaces(["three"], rt)


def test_build_runtime_takes_a_database_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    rt = core.build_runtime(_config(tmp_path), database_url=url)
    assert rt.store.url == url
    assert (tmp_path / "elsewhere.db").exists()


def _row(rt: core.Runtime, status: str = "pending") -> str:
    pid = rt.store.new_proposal_id()
    rt.store.save_proposal(
        ProposalRow(
            id=pid, run_id="r", workspace="one", address="aws_sqs_queue.q", strategy="revert", status=status
        )
    )
    return pid


def test_approve_and_reject_record_who_and_where(tmp_path: Path) -> None:
    rt = core.build_runtime(_config(tmp_path))
    first, second = _row(rt), _row(rt)
    assert {r.id for r in core.list_proposals(rt, open_only=True)} == {first, second}
    url = "https://github.com/o/r/pull/7#issuecomment-1"
    approved = core.approve_proposal(rt, first, "octocat", source=url)
    assert (approved.status, approved.approved_by) == ("approved", "octocat")
    core.reject_proposal(rt, second, "alice", "not now", source=url)
    rows = [e for e in rt.store.entries() if e.kind == "approval"]
    assert [(e.status, e.data["by"], e.data["source"]) for e in rows] == [
        ("approved", "octocat", url),
        ("rejected", "alice", url),
    ]
    assert [r.id for r in core.list_proposals(rt, status="rejected")] == [second]
    assert core.list_proposals(rt, open_only=True)[0].id == first
    with pytest.raises(ConfigError, match="reason"):
        core.reject_proposal(rt, first, "alice", "  ")
    with pytest.raises(ConfigError, match="only a pending proposal"):
        core.approve_proposal(rt, second, "octocat")


def test_apply_needs_an_approved_proposal(tmp_path: Path) -> None:
    rt = core.build_runtime(_config(tmp_path))
    pid = _row(rt)
    with pytest.raises(ConfigError, match="approve"):
        core.apply_proposal(rt, pid, ReconcileOptions(trigger="comment"), by="octocat")


def test_a_request_cannot_point_the_llm_key_at_another_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A job payload names settings, and the worker reads the key from its own environment: sending
    # another variable (or the configured key to another URL) would leak it.
    from driftctl.reconcile.runtime import llm_drafter

    for var in ("DRIFTCTL_LLM_BASE_URL", "DRIFTCTL_LLM_MODEL", "DRIFTCTL_LLM_API_KEY_ENV"):
        monkeypatch.delenv(var, raising=False)
    rt = core.build_runtime(_config(tmp_path))
    assert rt.llm is not None
    tuned = rt.llm.__class__(
        base_url=rt.llm.base_url, model="other-model", api_key_env=rt.llm.api_key_env, max_attempts=0
    )
    drafter, attempts = llm_drafter(ReconcileOptions(drafter="llm", llm=tuned), rt.llm)
    assert drafter is not None and attempts == 0
    for evil in (
        LlmSettings(base_url="http://evil.test/v1", model="m", api_key_env=rt.llm.api_key_env),
        LlmSettings(base_url=rt.llm.base_url, model="m", api_key_env="AWS_SECRET_ACCESS_KEY"),
    ):
        with pytest.raises(ConfigError, match="not the one configured on this host"):
            llm_drafter(ReconcileOptions(drafter="auto", llm=evil), rt.llm)
    assert llm_drafter(ReconcileOptions(drafter="rules", llm=evil), rt.llm) == (None, 2)
    assert llm_drafter(ReconcileOptions(drafter="auto"), None) == (None, 2)
    with pytest.raises(DriftctlError, match="needs an endpoint"):
        llm_drafter(ReconcileOptions(drafter="llm"), None)
