"""Parses `terraform show -json` plan output into masked domain records (no I/O but reading bytes given).

Only ``resource_drift`` and ``resource_changes`` are decoded; the rest of the document (prior state,
planned values, configuration — the bulk of a large plan, and where secrets live) is skipped by the
decoder without building Python objects. Values are masked here, at the boundary: whatever the plan
marks sensitive becomes ``SENSITIVE`` and whatever it marks unknown becomes ``UNKNOWN``, so raw
secrets never reach findings, reports, logs or prompts. Masking makes two different secrets read the
same, so before the raw values are dropped the parser compares them and keeps only *where* a masked
value changed (``ChangeRecord.hidden``): drift of a secret is still drift, and nothing of it leaks.

msgspec does the decoding: it validates the shape and skips unknown fields (Terraform's compatibility
rule) while keeping ``before``/``after`` as raw bytes until a record actually needs them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from driftctl.errors import PlanFormatError
from driftctl.models import SENSITIVE, UNKNOWN, ResourceAddress

SUPPORTED_MAJOR = "1"
_NULL = msgspec.Raw(b"null")
_FALSE = msgspec.Raw(b"false")


class _Change(msgspec.Struct):
    actions: list[str]
    before: msgspec.Raw = _NULL
    after: msgspec.Raw = _NULL
    after_unknown: msgspec.Raw = _FALSE
    before_sensitive: msgspec.Raw = _FALSE
    after_sensitive: msgspec.Raw = _FALSE


class _ResourceChange(msgspec.Struct):
    address: str
    type: str
    name: str
    change: _Change
    mode: str = "managed"
    module_address: str | None = None
    index: Any = None
    provider_name: str = ""


class _Plan(msgspec.Struct):
    format_version: str
    terraform_version: str | None = None
    resource_drift: list[_ResourceChange] = msgspec.field(default_factory=list)
    resource_changes: list[_ResourceChange] = msgspec.field(default_factory=list)
    errored: bool = False
    prior_state: msgspec.Raw = _NULL  # kept as bytes: decoded only for the addresses the ledger asks about


_DECODER = msgspec.json.Decoder(_Plan)
_RAW = msgspec.json.Decoder()
_BLANK = re.compile(rb"[ \t\r\n]*\Z")
_MIN_SECRET = 4  # shorter sensitive strings ("true", "1") would mask half the plan


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """One entry of ``resource_drift`` or ``resource_changes``, values already masked."""

    resource: ResourceAddress
    provider: str
    actions: tuple[str, ...]
    before: Any
    after: Any
    # Where both sides read SENSITIVE but the real values differ: key sequences into before/after
    # (dict keys and list indices). The only trace of the raw values that outlives the parser.
    hidden: tuple[tuple[str | int, ...], ...] = ()


class RawState:
    """The plan's ``prior_state`` JSON, unread and unmasked: only ``prior_values`` looks inside, and
    masks what it returns. Its repr shows the size only, so no secret can reach a log through it."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"<prior_state: {len(self.raw)} bytes, unread>"

    def __deepcopy__(self, memo: dict[int, Any]) -> RawState:
        return self  # immutable bytes: `dataclasses.asdict` keeps the opaque object, not its text


@dataclass(frozen=True, slots=True)
class Plan:
    source: str  # the file or command the plan came from, for messages
    format_version: str
    terraform_version: str | None
    drift: tuple[ChangeRecord, ...]
    changes: tuple[ChangeRecord, ...]  # only entries whose actions are not no-op/read
    errored: bool
    prior_state: RawState = field(default_factory=lambda: RawState(b"null"))  # see ``prior_values``


def parse_plan(data: bytes | str, *, source: str = "<plan>") -> Plan:
    """Parse plan JSON. Any problem is a ``PlanFormatError`` naming ``source`` and what is wrong."""
    try:
        return _parse(data, source)
    except RecursionError:  # msgspec and the masking walks recurse once per level of nesting
        raise PlanFormatError(f"{source}: {TOO_DEEP}") from None


TOO_DEEP = "values are nested too deeply to read (hundreds of levels; a Terraform plan never is)"


def _parse(data: bytes | str, source: str) -> Plan:
    if isinstance(data, str):
        data = data.encode()
    if not data or _BLANK.match(data):  # stops at the first other byte; strip() would copy 50 MB
        raise PlanFormatError(f"{source}: empty file, expected the JSON of `terraform show -json PLANFILE`")
    try:
        raw = _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        raise PlanFormatError(f"{source}: not a Terraform plan: {_describe(exc)}") from None
    except msgspec.DecodeError as exc:
        raise PlanFormatError(f"{source}: invalid JSON: {exc}") from None
    major = raw.format_version.split(".", 1)[0]
    if major != SUPPORTED_MAJOR:
        raise PlanFormatError(
            f"{source}: unsupported format_version {raw.format_version!r}; driftctl reads 1.x "
            "(Terraform ≥ 0.12 and OpenTofu)"
        )
    try:
        drift_raw = [_decoded(rc) for rc in raw.resource_drift if rc.mode == "managed"]
        changes_raw = [
            _decoded(rc)
            for rc in raw.resource_changes
            if rc.mode == "managed" and rc.change.actions not in (["no-op"], ["read"])
        ]
    except msgspec.DecodeError as exc:
        raise PlanFormatError(f"{source}: invalid JSON inside a resource change: {exc}") from None
    # Terraform only marks values sensitive where it tracked them; a provider copying one into
    # another attribute (tags → tags_all) loses the mark. Any other occurrence of a known secret is
    # masked too.
    secrets: set[str] = set()
    for decoded in (*drift_raw, *changes_raw):
        _collect_secrets(decoded[1], decoded[3], secrets)
        _collect_secrets(decoded[2], decoded[4], secrets)
    pattern = _secret_pattern(secrets)
    drift = tuple(_record(d, pattern) for d in drift_raw)
    changes = tuple(_record(d, pattern) for d in changes_raw)
    return Plan(
        source,
        raw.format_version,
        raw.terraform_version,
        drift,
        changes,
        raw.errored,
        RawState(bytes(raw.prior_state)),
    )


class _StateResource(msgspec.Struct):
    address: str
    mode: str = "managed"
    values: msgspec.Raw = _NULL
    sensitive_values: msgspec.Raw = _FALSE


class _StateModule(msgspec.Struct):
    resources: list[_StateResource] = msgspec.field(default_factory=list)
    child_modules: list[_StateModule] = msgspec.field(default_factory=list)


class _StateValues(msgspec.Struct):
    root_module: _StateModule = msgspec.field(default_factory=_StateModule)


class _PriorState(msgspec.Struct):
    values: _StateValues | None = None


_PRIOR = msgspec.json.Decoder(_PriorState | None)


def prior_values(plan: Plan, addresses: Collection[str]) -> dict[str, Any]:
    """The refreshed state's values of ``addresses`` (masked like every record); absent: not in state.

    A plan's ``prior_state`` is the state after refresh, so these are reality as Terraform last read
    it — and, when no ``resource_drift`` entry names the address, also what state now holds.
    """
    wanted = set(addresses)
    if not wanted:
        return {}
    try:
        prior = _PRIOR.decode(plan.prior_state.raw)
    except msgspec.DecodeError as exc:
        raise PlanFormatError(f"{plan.source}: invalid prior_state: {exc}") from None
    if prior is None or prior.values is None:
        return {}
    found: dict[str, tuple[Any, Any]] = {}
    stack = [prior.values.root_module]
    while stack:  # iterative: a deeply nested module tree must not exhaust the stack
        module = stack.pop()
        stack.extend(module.child_modules)
        for resource in module.resources:
            if resource.mode == "managed" and resource.address in wanted:
                found[resource.address] = (_RAW.decode(resource.values), _flags(resource.sensitive_values))
    secrets: set[str] = set()
    for values, sensitive in found.values():
        _collect_secrets(values, sensitive, secrets)
    pattern = _secret_pattern(secrets)
    return {a: _scrub(mask(v, s, None), pattern) for a, (v, s) in found.items()}


def read_plan_file(path: Path) -> Plan:
    """Read and parse a saved plan JSON file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PlanFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PlanFormatError(f"{path}: is a directory, expected a plan JSON file") from None
    except OSError as exc:
        raise PlanFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_plan(data, source=str(path))


def _describe(exc: msgspec.ValidationError) -> str:
    # msgspec says e.g. "Object missing required field `format_version`" or "... - at `$.resource_drift[0]`"
    text = str(exc)
    return re.sub(r"`\$(.*?)`", lambda m: f"`{m.group(1).lstrip('.') or 'top level'}`", text)


_Decoded = tuple[_ResourceChange, Any, Any, Any, Any, Any]


def _flags(raw: msgspec.Raw) -> Any:
    """A sensitive/unknown marker, or False when it marks nothing (most do: skip decoding them)."""
    return _RAW.decode(raw) if b"true" in bytes(raw) else False


def _decoded(rc: _ResourceChange) -> _Decoded:
    c = rc.change
    return (
        rc,
        _RAW.decode(c.before),
        _RAW.decode(c.after),
        _flags(c.before_sensitive),
        _flags(c.after_sensitive),
        _flags(c.after_unknown),
    )


def _collect_secrets(value: Any, sensitive: Any, into: set[str]) -> None:
    if sensitive is True:
        _leaves(value, into)
    elif isinstance(value, dict) and isinstance(sensitive, dict):
        for key, flag in sensitive.items():
            _collect_secrets(value.get(key), flag, into)
    elif isinstance(value, list) and isinstance(sensitive, list):
        for item, flag in zip(value, sensitive, strict=False):
            _collect_secrets(item, flag, into)


def _leaves(value: Any, into: set[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _leaves(item, into)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, into)
    elif isinstance(value, str) and len(value) >= _MIN_SECRET:
        into.add(value)


def _secret_pattern(secrets: set[str]) -> re.Pattern[str] | None:
    """One regex for every secret: each string is scanned once, however many secrets there are.

    A secret is matched both as written and as JSON-escaped (the quick check searches encoded JSON).
    """
    if not secrets:
        return None
    forms = {form for s in secrets for form in (s, msgspec.json.encode(s).decode()[1:-1])}
    return re.compile("|".join(re.escape(s) for s in sorted(forms, key=len, reverse=True)))


def _scrub(value: Any, pattern: re.Pattern[str] | None) -> Any:
    if pattern is None or value is None:
        return value
    # Most values hold no secret: one C-speed encode + search decides, the walk runs only on a hit.
    # Decoded JSON escapes nothing but quotes, backslashes and control characters, so a secret
    # without those is found verbatim in the encoding.
    if isinstance(value, (dict, list)) and not pattern.search(msgspec.json.encode(value).decode()):
        return value
    return _scrub_walk(value, pattern)


def _scrub_walk(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, dict):
        return {k: _scrub_walk(v, pattern) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_walk(v, pattern) for v in value]
    if isinstance(value, str) and pattern.search(value):
        return SENSITIVE
    return value


def _record(decoded: _Decoded, secrets: re.Pattern[str] | None) -> ChangeRecord:
    rc, before, after, before_sensitive, after_sensitive, after_unknown = decoded
    masked_before = _scrub(mask(before, before_sensitive, None), secrets)
    masked_after = _scrub(mask(after, after_sensitive, after_unknown), secrets)
    hidden: tuple[tuple[str | int, ...], ...] = ()
    if before_sensitive or after_sensitive or secrets is not None:
        hidden = tuple(hidden_changes(before, after, masked_before, masked_after)) if before != after else ()
    return ChangeRecord(
        resource=ResourceAddress(rc.address, rc.type, rc.name, rc.module_address, rc.index),
        provider=rc.provider_name,
        actions=tuple(rc.change.actions),
        before=masked_before,
        after=masked_after,
        hidden=hidden,
    )


def hidden_changes(
    before: Any, after: Any, masked_before: Any, masked_after: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Key sequences where both masked sides read ``SENSITIVE`` yet the raw values differ.

    Walks the masked values beside the raw ones, descending only where the raw values differ (one
    C-speed comparison per key), so a plan without changed secrets costs next to nothing.
    """
    if masked_before == SENSITIVE and masked_after == SENSITIVE:
        if before != after:
            yield path
    elif isinstance(masked_before, dict) and isinstance(masked_after, dict):
        raw_before = before if isinstance(before, dict) else {}
        raw_after = after if isinstance(after, dict) else {}
        for key, mb in masked_before.items():
            if key in masked_after:
                rb, ra = raw_before.get(key), raw_after.get(key)
                if rb != ra:
                    yield from hidden_changes(rb, ra, mb, masked_after[key], (*path, key))
    elif isinstance(masked_before, list) and isinstance(masked_after, list):
        raw_b_list = before if isinstance(before, list) else []
        raw_a_list = after if isinstance(after, list) else []
        for i, (mb, ma) in enumerate(zip(masked_before, masked_after, strict=False)):
            rb = raw_b_list[i] if i < len(raw_b_list) else None
            ra = raw_a_list[i] if i < len(raw_a_list) else None
            if rb != ra:
                yield from hidden_changes(rb, ra, mb, ma, (*path, i))


def mask(value: Any, sensitive: Any, unknown: Any) -> Any:
    """Replace sensitive leaves with SENSITIVE and unknown ones with UNKNOWN.

    ``sensitive``/``unknown`` mirror the value's structure with ``true`` where a value is sensitive
    or unknown (a ``true`` on a container covers everything inside it).
    """
    if sensitive is True:
        return SENSITIVE
    if unknown is True:
        return UNKNOWN
    if not sensitive and not unknown:
        return value
    if isinstance(value, dict):
        s = sensitive if isinstance(sensitive, dict) else {}
        u = unknown if isinstance(unknown, dict) else {}
        out = {k: mask(v, s.get(k), u.get(k)) for k, v in value.items()}
        # An unknown attribute can be absent from the value and present only in after_unknown.
        for k, flag in u.items():
            if k not in out and flag is True:
                out[k] = UNKNOWN
        return out
    if isinstance(value, list):
        s_list = sensitive if isinstance(sensitive, list) else []
        u_list = unknown if isinstance(unknown, list) else []
        return [
            mask(v, s_list[i] if i < len(s_list) else None, u_list[i] if i < len(u_list) else None)
            for i, v in enumerate(value)
        ]
    if value is None and unknown:
        return UNKNOWN
    return value
