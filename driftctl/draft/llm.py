"""Asks an OpenAI-compatible chat-completions endpoint for a drift fix (does network I/O)."""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

import openai
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from driftctl.draft.breaker import Breaker
from driftctl.draft.prompt import LlmContext, build_messages
from driftctl.errors import DriftctlError
from driftctl.invisible import printable
from driftctl.models import Strategy

FALLBACK_HINT = "the rules drafter takes over; check the llm settings in driftctl.yaml and the endpoint"

REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["strategy", "block", "rationale", "confidence"],
    "properties": {
        "strategy": {"type": "string", "enum": ["revert", "adopt"]},
        "block": {
            "type": ["string", "null"],
            "description": "the complete edited resource block; null for revert",
        },
        "rationale": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
}
_JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "driftctl_fix", "strict": True, "schema": REPLY_SCHEMA},
}
_JSON_OBJECT_FORMAT = {"type": "json_object"}


class LlmUnavailableError(DriftctlError):
    """The LLM endpoint failed (after retries) or its breaker is open; the caller falls back to rules."""

    retryable = True


class LlmReplyError(DriftctlError):
    """The LLM answered, but not with a reply that fits the schema; the caller falls back to rules."""


@dataclass(frozen=True, slots=True)
class LlmConfig:
    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"  # the variable's name; the key itself is never stored or shown
    timeout_s: float = 30
    max_retries: int = 3  # retries after the first attempt, for 429, 5xx, timeouts and connection errors
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8
    breaker_failures: int = 3
    breaker_cooldown_s: float = 300
    temperature: float = 0
    budget_s: float = 300  # every request of this drafter (one run) together, retries and waits included


@dataclass(frozen=True, slots=True)
class LlmAttempt:
    """One call of ``LlmDrafter.draft``, for the audit trail: what came back (its sha256, never the
    text) and what became of it. ``outcome``: replied (then accepted or rejected by the caller),
    rejected (by the drafter or the caller, with ``reason``), unavailable (no usable answer)."""

    address: str
    outcome: str
    reason: str = ""
    reply_sha256: str | None = None
    requests: int = 0
    seconds: float = 0.0
    model: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "address": self.address,
            "outcome": self.outcome,
            "reason": self.reason,
            "reply_sha256": self.reply_sha256,
            "requests": self.requests,
            "seconds": self.seconds,
            "model": self.model,
        }


@dataclass(frozen=True, slots=True)
class LlmReply:
    strategy: Strategy
    block: str | None  # the full edited resource block for adopt; None for revert
    rationale: str
    confidence: float  # [0, 1]
    audit: tuple[tuple[str, str], ...] = ()


class _ReplyModel(BaseModel):
    """The reply's JSON, checked at the boundary."""

    model_config = ConfigDict(extra="forbid", strict=True)

    strategy: Literal["revert", "adopt"]
    block: str | None
    rationale: str
    confidence: float = Field(ge=0, le=1)


@dataclass(frozen=True, slots=True)
class _Completion:
    content: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    attempts: int
    response_format: str


class LlmDrafter:
    """Drafts one fix per call through ``draft``. Retries are ours (the client's are off), with exponential
    backoff, full jitter and ``Retry-After``; a breaker stops calls to an endpoint that keeps failing."""

    def __init__(
        self,
        config: LlmConfig,
        *,
        breaker: Breaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        client: openai.OpenAI | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self.progress = progress
        self._spent = 0.0  # seconds of this drafter's budget used so far
        self._attempts: list[LlmAttempt] = []
        self.breaker = (
            breaker if breaker is not None else Breaker(config.breaker_failures, config.breaker_cooldown_s)
        )
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._api_key = os.environ.get(config.api_key_env) or ""
        self._client = client or openai.OpenAI(
            base_url=config.base_url,
            api_key=self._api_key or "unused",  # local servers need none; the client insists on one
            timeout=config.timeout_s,
            max_retries=0,
        )
        self._json_schema_rejected = False  # learnt once per drafter: the server only takes json_object

    @property
    def remaining_s(self) -> float:
        """What is left of the run's LLM time budget."""
        return max(0.0, self.config.budget_s - self._spent)

    def take_attempts(self) -> tuple[LlmAttempt, ...]:
        """The attempts recorded since the last call (for the audit trail), oldest first."""
        taken, self._attempts = tuple(self._attempts), []
        return taken

    def reject_last(self, reason: str) -> None:
        """The caller rejected the last reply (guardrails, verification): say so in its attempt."""
        for i in range(len(self._attempts) - 1, -1, -1):
            if self._attempts[i].outcome == "replied":
                self._attempts[i] = replace(self._attempts[i], outcome="rejected", reason=reason[:500])
                return

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    def draft(self, ctx: LlmContext) -> LlmReply:
        """One fix for ``ctx.finding``. Raises LlmUnavailableError or LlmReplyError; both mean: use rules.

        Every call is recorded as an ``LlmAttempt`` (see ``take_attempts``) and announced through
        ``progress``; once the run's ``budget_s`` is spent no request is sent.
        """
        address = ctx.finding.address
        if self.remaining_s <= 0:
            reason = f"the run's LLM time budget of {self.config.budget_s:g} s is spent; no request sent"
            self._attempts.append(LlmAttempt(address, "unavailable", reason, model=self.config.model))
            raise LlmUnavailableError(reason, hint=FALLBACK_HINT)
        if not self.breaker.allow():
            reason = (
                f"the LLM circuit breaker is {self.breaker.state} after {self.breaker.failures} consecutive "
                f"failures; no request sent (next try after a {self.breaker.cooldown_s:g} s cooldown)"
            )
            self._attempts.append(LlmAttempt(address, "unavailable", reason, model=self.config.model))
            raise LlmUnavailableError(reason, hint=FALLBACK_HINT)
        messages = build_messages(ctx)
        started = self._clock()
        self._say(
            f"{address}: asking the LLM ({self.config.model}; {self.remaining_s:.0f} s of the run's "
            f"{self.config.budget_s:g} s LLM budget left)"
        )
        try:
            response, attempts, response_format = self._complete(messages)
        except LlmUnavailableError as exc:
            self.breaker.record_failure()
            self._finish(LlmAttempt(address, "unavailable", exc.message, model=self.config.model), started)
            raise
        except BaseException:
            self.breaker.record_failure()  # also on a bug, so a half-open probe is never left hanging
            self._spent += self._clock() - started
            raise
        # The endpoint answered: it is healthy, whatever the model said. A bad reply is the model's fault.
        self.breaker.record_success()
        content = _content_of(response)
        try:
            completion = _completion(response, self.config.model, attempts, response_format)
            reply = _parse_reply(completion.content)
        except LlmReplyError as exc:
            digest = _sha256(content) if content is not None else None
            self._finish(
                LlmAttempt(address, "rejected", exc.message, digest, attempts, model=self.config.model),
                started,
            )
            raise
        self._finish(
            LlmAttempt(address, "replied", "", _sha256(completion.content), attempts, model=completion.model),
            started,
        )
        audit = (
            ("prompt_sha256", _sha256(json.dumps(messages, sort_keys=True, ensure_ascii=False))),
            ("reply_sha256", _sha256(completion.content)),
            ("prompt_tokens", _count(completion.prompt_tokens)),
            ("completion_tokens", _count(completion.completion_tokens)),
            ("model", completion.model),
            ("attempts", str(completion.attempts)),
            ("response_format", completion.response_format),
        )
        strategy = Strategy(reply.strategy)
        return LlmReply(
            strategy=strategy,
            block=reply.block if strategy is Strategy.ADOPT else None,
            rationale=printable(reply.rationale),  # shown to people: no \r, escapes or bidi tricks
            confidence=reply.confidence,
            audit=audit,
        )

    def _finish(self, attempt: LlmAttempt, started: float) -> None:
        elapsed = self._clock() - started
        self._spent += elapsed
        self._attempts.append(replace(attempt, seconds=round(elapsed, 3)))
        what = {"replied": "replied", "rejected": "reply rejected", "unavailable": "unavailable"}[
            attempt.outcome
        ]
        self._say(
            f"{attempt.address}: LLM {what} after {elapsed:.1f} s"
            + (f": {attempt.reason.splitlines()[0][:200]}" if attempt.reason else "")
        )

    # -- the endpoint ---------------------------------------------------------------------------------

    def _complete(self, messages: list[dict[str, str]]) -> tuple[ChatCompletion, int, str]:
        """The client's answer, the number of requests it took and the response format that worked.

        No request outlives the run's budget: each one's timeout is what is left of it, and a retry
        whose wait would not fit is not made.
        """
        attempts = 0
        retries = 0
        deadline = self._clock() + self.remaining_s
        while True:
            attempts += 1
            response_format = "json_object" if self._json_schema_rejected else "json_schema"
            left = deadline - self._clock()
            if left <= 0:
                raise self._unavailable(
                    f"the run's LLM time budget of {self.config.budget_s:g} s ran out", attempts - 1
                )
            try:
                # Plain dicts are the wire format; the client's TypedDicts differ between its versions.
                response = self._client.chat.completions.create(
                    model=self.config.model,
                    messages=cast(Any, messages),
                    temperature=self.config.temperature,
                    response_format=cast(
                        Any, _JSON_OBJECT_FORMAT if self._json_schema_rejected else _JSON_SCHEMA_FORMAT
                    ),
                    timeout=min(self.config.timeout_s, left),
                )
            except openai.BadRequestError as exc:
                if not self._json_schema_rejected and _rejects_json_schema(exc):
                    # Not a transient failure: the server lacks structured outputs. Ask again, once.
                    self._json_schema_rejected = True
                    continue
                raise self._unavailable(
                    f"the endpoint refused the request: {self._describe(exc)}", attempts
                ) from None
            except (openai.APITimeoutError, openai.APIConnectionError, openai.APIStatusError) as exc:
                if not _is_transient(exc):
                    raise self._unavailable(
                        f"the endpoint refused the request: {self._describe(exc)}", attempts
                    ) from None
                if retries + 1 > self.config.max_retries:
                    raise self._unavailable(
                        f"the endpoint failed after {attempts} attempts: {self._describe(exc)}", attempts
                    ) from None
                retries += 1
                wait = self._delay(retries, exc)
                if self._clock() + wait >= deadline:
                    raise self._unavailable(
                        f"the run's LLM time budget of {self.config.budget_s:g} s runs out before the next "
                        f"retry (last: {self._describe(exc)})",
                        attempts,
                    ) from None
                self._sleep(wait)
                continue
            except openai.OpenAIError as exc:
                raise self._unavailable(
                    f"the endpoint call failed: {self._describe(exc)}", attempts
                ) from None
            return response, attempts, response_format

    def _delay(self, retry: int, exc: Exception) -> float:
        """Seconds before retry number ``retry`` (1-based): Retry-After if the server sent one, else
        exponential backoff with full jitter; never more than ``backoff_max_s``."""
        response = getattr(exc, "response", None)
        retry_after = _retry_after(response.headers) if response is not None else None
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.config.backoff_max_s)
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * 2 ** (retry - 1))
        return self._rng.uniform(0, ceiling)

    def _unavailable(self, reason: str, attempts: int) -> LlmUnavailableError:
        # Raised "from None": the client's exception holds the request, Authorization header included.
        return LlmUnavailableError(
            f"{reason} ({self.config.model}, {attempts} attempt(s))", hint=FALLBACK_HINT
        )

    def _describe(self, exc: openai.OpenAIError) -> str:
        if isinstance(exc, openai.APITimeoutError):
            text = f"timed out after {self.config.timeout_s:g} s"
        elif isinstance(exc, openai.APIConnectionError):
            text = f"cannot connect ({type(exc.__cause__ or exc).__name__})"
        elif isinstance(exc, openai.APIStatusError):
            text = f"HTTP {exc.status_code}: {_server_message(exc)}"
        else:
            text = f"{type(exc).__name__}: {exc}"
        return self._redact(text)

    def _redact(self, text: str) -> str:
        """A hostile or careless server may echo the Authorization header back."""
        return text.replace(self._api_key, "[redacted]") if self._api_key else text


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return isinstance(exc, openai.RateLimitError) or (
        isinstance(exc, openai.APIStatusError) and exc.status_code >= 500
    )


def _rejects_json_schema(exc: openai.BadRequestError) -> bool:
    text = f"{exc.message} {json.dumps(exc.body, default=str)}".lower()
    return "response_format" in text or "json_schema" in text


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    message = body.get("message") if isinstance(body, Mapping) else None
    text = str(message) if message else (str(body) if body else exc.response.reason_phrase)
    return " ".join(text.split())[:300]


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, ``Retry-After`` seconds or HTTP date."""
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return float(ms) / 1000
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return when.timestamp() - time.time()
    except (TypeError, ValueError, OverflowError):
        return None


def _content_of(response: Any) -> str | None:
    """The reply text, if the answer has one (to digest a reply that is then rejected)."""
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def _completion(response: Any, fallback_model: str, attempts: int, response_format: str) -> _Completion:
    """Pulls what we need out of the client's object; a body of the wrong shape is a reply error."""
    try:
        choice = response.choices[0]
        content = choice.message.content
        finish_reason = choice.finish_reason
        usage = response.usage
        model = response.model or fallback_model
    except (AttributeError, IndexError, TypeError) as exc:
        raise LlmReplyError(
            f"the endpoint's answer is not a chat completion ({type(exc).__name__})"
        ) from None
    if finish_reason == "length":
        raise LlmReplyError("the LLM reply was cut off at its token limit", hint=FALLBACK_HINT)
    if not isinstance(content, str) or not content.strip():
        refusal = getattr(choice.message, "refusal", None)
        raise LlmReplyError(
            f"the LLM reply has no content{f' (refusal: {refusal[:200]})' if refusal else ''}",
            hint=FALLBACK_HINT,
        )
    return _Completion(
        content=content,
        model=str(model),
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
        attempts=attempts,
        response_format=response_format,
    )


def _parse_reply(content: str) -> _ReplyModel:
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise LlmReplyError(
            f"the LLM reply is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            hint=FALLBACK_HINT,
        ) from None
    try:
        reply = _ReplyModel.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'reply'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise LlmReplyError(
            f"the LLM reply does not fit the schema ({problems})", hint=FALLBACK_HINT
        ) from None
    if reply.strategy == "adopt" and not (reply.block and reply.block.strip()):
        raise LlmReplyError("the LLM chose adopt but sent no edited block", hint=FALLBACK_HINT)
    return reply


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _count(tokens: int | None) -> str:
    return str(tokens) if tokens is not None else "unknown"
