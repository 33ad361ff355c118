"""Issue 16 item 6: one LLM time budget per run, a progress line per attempt, every attempt audited,
and the model's own confidence can only lower the decision's (real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from driftctl.assess.blast import blast_radius, load_weights
from driftctl.assess.decide import Gate, decide
from driftctl.assess.score import VERIFIED_CONFIDENCE, score
from driftctl.audit.llm import record_llm_attempts
from driftctl.audit.store import Store
from driftctl.draft.llm import LlmConfig, LlmDrafter, LlmReplyError, LlmUnavailableError
from driftctl.models import DecisionKind, Draft, Strategy, Verification
from tests.unit.draft.fake_openai import FakeOpenAI, Reply, Sleep, Status, fake_openai
from tests.unit.draft.test_llm import ADOPT_REPLY, KEY_ENV, _api_key, _ctx  # noqa: F401 (fixture)

FIXES = Path(__file__).resolve().parents[2] / "fixtures" / "fixes"


class Clock:
    """A monotonic clock that only moves when the drafter 'sleeps' (so no test waits)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _drafter(server: FakeOpenAI, clock: Clock, lines: list[str], **overrides: object) -> LlmDrafter:
    settings: dict[str, object] = {"base_url": server.base_url, "model": "fake-model", "api_key_env": KEY_ENV}
    settings.update(overrides)
    return LlmDrafter(
        LlmConfig(**settings),  # type: ignore[arg-type]
        sleep=clock.sleep,
        clock=clock,
        progress=lines.append,
    )


def test_a_hung_endpoint_spends_one_budget_for_the_whole_run_then_no_request_is_sent() -> None:
    lines: list[str] = []
    with fake_openai([Sleep(5)]) as server:
        drafter = LlmDrafter(
            LlmConfig(
                base_url=server.base_url,
                model="m",
                api_key_env=KEY_ENV,
                timeout_s=0.3,
                max_retries=5,
                budget_s=0.5,
                backoff_base_s=0,  # no wait between retries: every second spent is a request
            ),
            sleep=lambda _s: None,
            progress=lines.append,
        )
        started = time.monotonic()
        with pytest.raises(LlmUnavailableError, match=r"LLM time budget of 0\.5 s (ran|runs) out"):
            drafter.draft(_ctx())  # 0.3 s, then what is left (~0.2 s), then nothing: not 6 x 0.3 s
        sent = len(server.requests)
        assert 1 <= sent <= 2  # two unless the first timeout alone overran the budget on a loaded host
        with pytest.raises(LlmUnavailableError, match=r"LLM time budget of 0\.5 s is spent; no request sent"):
            drafter.draft(_ctx())
        assert len(server.requests) == sent  # the second finding cost nothing
        assert time.monotonic() - started < 4  # a hang guard, not a performance target
    assert drafter.remaining_s == 0
    # A line when the attempt starts and one when it ends: never silent while waiting.
    assert lines[0] == "aws_s3_bucket.logs: asking the LLM (m; 0 s of the run's 0.5 s LLM budget left)" or (
        lines[0].startswith("aws_s3_bucket.logs: asking the LLM (m; ")
    )
    assert lines[1].startswith("aws_s3_bucket.logs: LLM unavailable after ")
    assert "budget of 0.5 s" in lines[1]
    assert len(lines) == 2  # the refused second call sends nothing and says so through its error
    attempts = drafter.take_attempts()
    assert [a.outcome for a in attempts] == ["unavailable", "unavailable"]
    assert "no request sent" in attempts[1].reason
    assert drafter.take_attempts() == ()  # taken once


def test_a_retry_whose_wait_does_not_fit_the_budget_is_not_made() -> None:
    clock, lines = Clock(), []
    slow = Status(503, {"error": {"message": "busy"}}, {"Retry-After": "6"})
    with fake_openai([slow]) as server:
        drafter = _drafter(server, clock, lines, budget_s=10, max_retries=5, backoff_max_s=60)
        with pytest.raises(LlmUnavailableError, match="runs out before the next retry"):
            drafter.draft(_ctx())  # request, wait 6 s, request, a second 6 s wait would pass 10 s
        assert len(server.requests) == 2
    assert drafter.remaining_s == 4
    assert "(fake-model; 10 s of the run's 10 s LLM budget left)" in lines[0]


def test_a_request_never_waits_longer_than_what_is_left() -> None:
    clock, lines = Clock(), []
    with fake_openai([ADOPT_REPLY]) as server:
        drafter = _drafter(server, clock, lines, budget_s=2, timeout_s=30)
        drafter.draft(_ctx())
    # The client sends its timeout as a header we can read back: min(timeout_s, budget left).
    headers = {k.lower(): v for k, v in server.requests[0]["headers"].items()}
    timeout = headers.get("x-stainless-read-timeout")
    assert timeout is not None and float(timeout) == 2.0


def test_every_attempt_is_recorded_with_the_replys_digest_and_why_it_was_rejected(tmp_path: Path) -> None:
    clock, lines = Clock(), []
    not_json = Reply("sure! here is your fix: {")
    with fake_openai([not_json, ADOPT_REPLY, ADOPT_REPLY]) as server:
        drafter = _drafter(server, clock, lines)
        with pytest.raises(LlmReplyError):
            drafter.draft(_ctx())
        drafter.draft(_ctx())
        drafter.reject_last("guardrails: the edit adds a resource")
        drafter.draft(_ctx())  # accepted: stays "replied"
    first, second, third = drafter.take_attempts()
    assert (first.outcome, first.reply_sha256) == (
        "rejected",
        hashlib.sha256(not_json.content.encode()).hexdigest(),
    )
    assert first.reason.startswith("the LLM reply is not JSON")
    assert (second.outcome, second.reason) == ("rejected", "guardrails: the edit adds a resource")
    assert third.outcome == "replied" and third.reply_sha256 is not None
    assert any("LLM reply rejected after" in line for line in lines)
    with Store(f"sqlite:///{tmp_path / 'd.db'}") as store:
        seqs = record_llm_attempts(store, "run-1", "prod", (first, second, third))
        rows = [store.entry(s) for s in seqs]
        assert store.verify().ok
    assert [(r.kind, r.status, r.subject) for r in rows if r] == [
        ("llm", "rejected", "aws_s3_bucket.logs"),
        ("llm", "rejected", "aws_s3_bucket.logs"),
        ("llm", "replied", "aws_s3_bucket.logs"),
    ]
    stored = json.dumps([r.data for r in rows if r])
    assert "here is your fix" not in stored  # a digest, never the reply's text


# -- confidence --------------------------------------------------------------------------------------


def _plan(name: str) -> dict[str, object]:
    return json.loads((FIXES / f"{name}.json").read_text())  # type: ignore[no-any-return]


class Rego:
    deny: tuple[str, ...] = ()
    score = 0.0

    def __init__(self, *warn: str) -> None:
        self.warn = warn


def _llm_draft(confidence: float) -> Draft:
    return Draft("a.b", Strategy.REVERT, "llm", confidence=confidence)


def test_the_models_own_confidence_can_only_lower_the_evidence() -> None:
    blast = blast_radius(_plan("revert_tag"), load_weights())
    check = Verification(True, "only the drifted address changes")
    evidence = score(blast=blast, rego=Rego(), draft=_llm_draft(1.0), verification=check).confidence
    assert evidence <= VERIFIED_CONFIDENCE
    assert evidence == round(VERIFIED_CONFIDENCE - 0.25 * blast.risk, 4)  # from evidence, not from 1.0
    low = score(blast=blast, rego=Rego(), draft=_llm_draft(0.3), verification=check)
    assert low.confidence == 0.3
    assert any("own confidence 0.30 caps the evidence" in r.message for r in low.reasons)


def test_a_hostile_model_cannot_push_a_weak_fix_over_the_bar() -> None:
    # Verified only at the third attempt, one policy warning: evidence says below 0.85.
    blast = blast_radius(_plan("revert_sg_open"), load_weights())
    check = Verification(True, "ok", attempts=3)
    hostile = score(blast=blast, rego=Rego("ssh from anywhere"), draft=_llm_draft(1.0), verification=check)
    assert hostile.confidence < 0.85
    decision = decide(hostile, Gate(mode="auto"))
    assert decision.kind is DecisionKind.PROPOSE


def test_a_failed_verification_is_zero_whatever_the_model_says() -> None:
    blast = blast_radius(_plan("revert_tag"), load_weights())
    failed = Verification(False, "still drifts")
    assert score(blast=blast, rego=Rego(), draft=_llm_draft(1.0), verification=failed).confidence == 0.0


def test_history_of_failed_heals_lowers_confidence() -> None:
    class History:
        failed_heals = 2

    blast = blast_radius(_plan("revert_tag"), load_weights())
    check = Verification(True, "ok")
    base = score(blast=blast, rego=Rego(), draft=_llm_draft(1.0), verification=check).confidence
    hist = score(blast=blast, rego=Rego(), draft=_llm_draft(1.0), verification=check, history=History())
    assert hist.confidence == round(base - 0.2, 4)
