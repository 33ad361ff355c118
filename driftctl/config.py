"""Reads ``driftctl.yaml`` into merged, absolute per-workspace settings; reads files, and YAML for others.

The YAML helpers here (``read_yaml``, ``YamlSource``) are the one place a YAML file becomes a pydantic
model, so every YAML file driftctl reads (this config, ignore files, severity policies) reports problems
the same way: ``FILE:LINE: key.path: what is wrong and what is allowed``, all problems at once.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from driftctl.errors import ConfigError
from driftctl.fleet.settings import FleetSettings
from driftctl.forge.settings import ForgeSettings
from driftctl.service.settings import ServiceSettings
from driftctl.yamlsafe import (
    MAX_YAML_DEPTH,
    BoundedLoader,
    TooDeepError,
    check_size,
    read_capped,
)

CONFIG_NAMES = ("driftctl.yaml", "driftctl.yml")
DEFAULT_SCHEDULE = "*/30 * * * *"
DEFAULT_IGNORE_FILE = ".driftctl-ignore.yaml"
MAX_TIMEOUT_S = 86_400  # a Terraform command may run a day; `.inf` or 1e300 would overflow the clocks
MAX_LLM_TIMEOUT_S = 3_600

Mode = Literal["detect", "propose", "auto"]
Loc = Sequence[str | int]
M = TypeVar("M", bound=BaseModel)

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


# --- YAML → pydantic, with line numbers ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YamlSource:
    """A parsed YAML file: its data, and its node tree so a problem can be pointed at a line."""

    path: Path
    data: Any
    node: yaml.Node

    def line_of(self, loc: Loc) -> int:
        """The 1-based line of the deepest node along ``loc`` that exists (the key's line for a key)."""
        node, line = self.node, self.node.start_mark.line + 1
        for seg in loc:
            if isinstance(node, yaml.MappingNode):
                # Last match wins, as in the constructed dict (a key after a ``<<`` merge overrides it).
                found = [
                    (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(seg)
                ]
                if not found:
                    break
                key, node = found[-1]
                line = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(seg, int) and 0 <= seg < len(node.value):
                node = node.value[seg]
                line = node.start_mark.line + 1
            else:
                break
        return line

    def problem(self, loc: Loc, message: str) -> str:
        """One line of an error report: ``FILE:LINE: key.path: message``."""
        where = key_path(loc)
        return f"{self.path}:{self.line_of(loc)}: {where + ': ' if where else ''}{message}"

    def validate(self, model: type[M], *, extra: Sequence[tuple[Loc, str]] = ()) -> M:
        """The data as ``model``, or one ``ConfigError`` listing every problem (plus ``extra`` ones)."""
        problems = [(self.line_of(loc), self.problem(loc, msg)) for loc, msg in extra]
        try:
            result = model.model_validate(self.data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [seg for seg in err["loc"] if seg != "[key]"]
                problems.append((self.line_of(loc), self.problem(loc, _describe(err, model))))
            result = None
        if result is None or problems:
            problems.sort(key=lambda p: p[0])
            raise ConfigError("\n".join(text for _, text in problems))
        return result


def read_yaml(path: Path, *, what: str = "file", allow_empty: bool = False) -> YamlSource | None:
    """Parse one YAML document; ``None`` for an empty file if ``allow_empty``. Bad file → ``ConfigError``.

    Hostile input fails fast with a ``ConfigError`` naming the file: too big, nested too deep, or
    aliases expanding to too many values (bounds and reasons in ``driftctl.yamlsafe``).
    """
    text = read_capped(path, what)
    loader = BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_size(path, what, node)
        # Before construction, which flattens ``<<`` merges into the tree and so hides real duplicates.
        duplicates = list(_duplicate_keys(node, set())) if node is not None else []
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(path, exc) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    except (TooDeepError, RecursionError):  # RecursionError: the composer recurses per level
        raise ConfigError(
            f"{path}: {what} is nested too deeply (more than {MAX_YAML_DEPTH} levels)"
        ) from None
    finally:
        loader.dispose()
    if node is None:
        if allow_empty:
            return None
        raise ConfigError(f"{path}: {what} is empty", hint="see docs/config.md for the format")
    if duplicates:
        raise ConfigError(
            "\n".join(f"{path}:{k.start_mark.line + 1}: duplicate key {k.value!r}" for k in duplicates)
        )
    return YamlSource(path, data, node)


def _yaml_error(path: Path, exc: yaml.MarkedYAMLError) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    line = f":{mark.line + 1}" if mark is not None else ""
    context = exc.context or ""
    if context and exc.context_mark is not None and mark is not None and exc.context_mark.line != mark.line:
        context += f" (line {exc.context_mark.line + 1})"
    detail = "; ".join(x for x in (context, exc.problem or "") if x)
    # The classic trap: an unquoted cron schedule starts with "*", which YAML reads as an alias.
    hint = 'quote values that start with "*", "&", "!", "%" or "@", e.g. "*/30 * * * *"'
    return ConfigError(f"{path}{line}: invalid YAML: {detail}", hint=hint if "alias" in detail else None)


def key_path(loc: Loc) -> str:
    """``("workspaces", 1, "mode")`` → ``workspaces[1].mode``; odd keys are quoted: ``env["a.b"]``."""
    out = ""
    for seg in loc:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif _PLAIN_KEY.fullmatch(seg):
            out += f".{seg}" if out else seg
        else:
            out += f"[{seg!r}]".replace("'", '"')
    return out


def _duplicate_keys(node: yaml.Node, visited: set[int]) -> Iterator[yaml.ScalarNode]:
    # PyYAML keeps the last of two equal keys without a word; in a config that silently drops a setting.
    # A node reached again through an alias was already checked: each is walked once.
    if id(node) in visited:
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in seen:
                    yield key
                seen.add(key.value)
            yield from _duplicate_keys(value, visited)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item, visited)


def _describe(err: Any, model: type[BaseModel]) -> str:
    """Pydantic's error in words that name the offending value and what is allowed instead."""
    kind, msg, value, ctx = err["type"], err["msg"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        allowed = _allowed_keys(model, err["loc"][:-1])
        text = f"unknown key; allowed: {', '.join(allowed)}" if allowed else "unknown key"
        close = difflib.get_close_matches(key, allowed, n=1)
        return text + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind == "missing":
        return "required key is missing"
    if kind in ("literal_error", "enum"):
        return f"{_short(value)} is not one of {str(ctx.get('expected', '')).replace(chr(39), '')}"
    if kind == "value_error":
        return str(ctx.get("error", msg))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"should be a mapping (key: value), got {_short(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"should be a list, got {_short(value)}"
    if kind in ("string_too_short", "too_short"):
        return "should not be empty"
    text = msg[0].lower() + msg[1:] if msg else kind
    return f"{text.removeprefix('input ')}, got {_short(value)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    tp: Any = model
    for seg in loc:
        tp = _unwrap(tp)
        if (
            isinstance(tp, type)
            and issubclass(tp, BaseModel)
            and isinstance(seg, str)
            and seg in tp.model_fields
        ):
            tp = tp.model_fields[seg].annotation
        elif get_origin(tp) in (list, tuple) and isinstance(seg, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _unwrap(tp: Any) -> Any:
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, type(int | None)):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


# --- cron ---------------------------------------------------------------------------------------------

_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day-of-week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)
_CRON_ITEM = re.compile(r"(?P<range>\*|(?P<a>\w+)(?:-(?P<b>\w+))?)(?:/(?P<step>\d+))?")


def check_cron(expr: str) -> str:
    """``expr`` if it is a 5-field cron expression with values in range, else ``ValueError`` saying why."""
    if expr.startswith("@every"):
        return check_every(expr)
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(
            f"{expr!r} is not a 5-field cron expression (minute hour day-of-month month day-of-week), "
            f"e.g. {DEFAULT_SCHEDULE!r}"
        )
    for text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in text.split(","):
            match = _CRON_ITEM.fullmatch(item)
            if match is None or match["step"] == "0":
                raise ValueError(
                    f"cron {name} field {text!r} is not valid (use *, N, N-M, */S, N-M/S, lists)"
                )
            bounds = [_cron_value(match[g], name, low, high, names) for g in ("a", "b") if match[g]]
            if len(bounds) == 2 and bounds[0] > bounds[1]:
                raise ValueError(f"cron {name} range {item!r} runs backwards")
    from apscheduler.triggers.cron import CronTrigger  # the scheduler that runs it has the last word

    minute, hour, day, month, day_of_week = fields
    try:
        CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_day_of_week(day_of_week),
            timezone="UTC",
        )
    except ValueError as exc:
        raise ValueError(f"cron {expr!r}: {exc}") from None
    return expr


_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_day_of_week(field: str) -> str:
    """A crontab day-of-week field (0 and 7 are Sunday) as day names: APScheduler 3 counts 0 as Monday
    (its documented historical mistake), names mean the same to both."""
    if field == "*":
        return field
    days: list[str] = []
    for item in field.split(","):
        span, _, step = item.partition("/")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            a, b = span.split("-", 1)
            low, high = _dow(a), _dow(b)
        else:
            low = _dow(span)
            high = 6 if step else low
        days.extend(_DOW[n % 7] for n in range(low, high + 1, int(step) if step else 1))
    return ",".join(dict.fromkeys(days))


def _dow(token: str) -> int:
    return int(token) if token.isdigit() else _DOW.index(token.lower()[:3])


_EVERY = re.compile(r"@every\s+([1-9]\d*)(s|m|h)")


def check_every(expr: str) -> str:
    """``@every 30s`` / ``@every 10m`` / ``@every 1h``: a fixed interval (for demos and tests)."""
    if not _EVERY.fullmatch(expr.strip()):
        raise ValueError(f"{expr!r} is not an interval like '@every 30s', '@every 10m' or '@every 1h'")
    return expr


def every_seconds(expr: str) -> int | None:
    """The interval of an ``@every`` schedule in seconds; None for a cron expression."""
    match = _EVERY.fullmatch(expr.strip())
    if match is None:
        return None
    return int(match[1]) * {"s": 1, "m": 60, "h": 3600}[match[2]]


def _cron_value(token: str, field: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token.upper() in names:
        return names.index(token.upper()) + (1 if field == "month" else 0)
    if not token.isdigit() or not low <= int(token) <= high:
        allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
        raise ValueError(f"cron {field} value {token!r} is out of range ({allowed})")
    return int(token)


# --- the file's shape (what a user may write) ---------------------------------------------------------


def _scalars_as_str(value: Any) -> Any:
    # env and backend values are strings to Terraform; YAML turns `true` and `5` into bool and int first.
    if isinstance(value, dict):
        return {
            k: (str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, int | float) else v)
            for k, v in value.items()
        }
    return value


StrMap = Annotated[dict[str, str], BeforeValidator(_scalars_as_str)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    # strict: YAML already gives native types, so "4" for an int or `yes` for a number is a mistake.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class _ThresholdsIn(_Strict):
    confidence: Fraction = 0.85
    max_risk: Fraction = 0.3


_DURATION = re.compile(r"(?P<n>\d+)(?P<unit>[smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``"24h"`` → 86400.0 seconds; units s, m, h, d. Anything else → ``ValueError`` saying so."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match["n"]) == 0:
        raise ValueError(f"{text!r} is not a duration; write a positive number and a unit: 90m, 24h, 7d")
    return float(int(match["n"]) * _UNITS[match["unit"]])


class _FlappingIn(_Strict):
    window: str = "24h"
    heals: Annotated[int, Field(ge=0, le=1000)] = 3

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value


class _SettingsIn(_Strict):
    """What ``defaults`` and a workspace may both set; the field defaults are the built-in defaults."""

    terraform: Annotated[str, Field(min_length=1)] | None = None
    mode: Mode = "detect"
    schedule: str = DEFAULT_SCHEDULE
    parallel: Annotated[int, Field(ge=1)] = 4
    thresholds: _ThresholdsIn = _ThresholdsIn()
    ignore_file: Annotated[str, Field(min_length=1)] | None = DEFAULT_IGNORE_FILE
    # Seconds per Terraform command.
    timeout: Annotated[float, Field(gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False)] = 600
    var_files: list[Annotated[str, Field(min_length=1)]] = []
    backend_config: StrMap = {}
    env: StrMap = {}
    breaker_failures: Annotated[int, Field(ge=1, le=100)] = 3
    max_applies_per_hour: Annotated[int, Field(ge=0, le=1000)] = 10
    flapping: _FlappingIn = _FlappingIn()

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)


class _WorkspaceIn(_SettingsIn):
    name: str
    path: Annotated[str, Field(min_length=1)]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a valid workspace name (letters, digits, '_', '.', '-')")
        return value


class _LlmIn(_Strict):
    base_url: Annotated[str, Field(min_length=1)]
    model: Annotated[str, Field(min_length=1)]
    api_key_env: Annotated[str, Field(min_length=1)] = "OPENAI_API_KEY"
    timeout_s: Annotated[float, Field(gt=0, le=MAX_LLM_TIMEOUT_S, allow_inf_nan=False)] = 30
    max_retries: Annotated[int, Field(ge=0, le=10)] = 3
    max_attempts: Annotated[int, Field(ge=0, le=5)] = 2
    budget_s: Annotated[float, Field(gt=0, le=86400)] = 300


class _AuditIn(_Strict):
    key_env: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    key_file: Annotated[str, Field(min_length=1)] | None = None


class _AuditOnlyIn(BaseModel):
    """Just the ``audit:`` section, so audit commands work on a config that is otherwise incomplete."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, defer_build=True)
    audit: _AuditIn = _AuditIn()


class _ConfigIn(_Strict):
    version: int
    defaults: _SettingsIn = _SettingsIn()
    workspaces: Annotated[list[_WorkspaceIn], Field(min_length=1)]
    llm: _LlmIn | None = None
    audit: _AuditIn = _AuditIn()
    service: ServiceSettings | None = None
    forge: ForgeSettings | None = None
    fleet: FleetSettings | None = None  # `driftctl worker` (docs/fleet.md)

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"unsupported version {value}; this driftctl reads version 1")
        return value


# --- the result (what the rest of driftctl reads) -----------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Thresholds(_Frozen):
    """When ``auto`` may act: at least ``confidence`` in the fix, at most ``max_risk``; both in [0, 1]."""

    confidence: float
    max_risk: float


class Flapping(_Frozen):
    """An address that drifts again after ``heals`` heals within ``window_s`` seconds is flapping:
    auto-apply stops for it (``heals`` 0: never flagged)."""

    window_s: float
    heals: int


class WorkspaceConfig(_Frozen):
    """One workspace with ``defaults`` merged in; paths are absolute (existence is checked at run time)."""

    name: str
    path: Path
    terraform: str | None  # None: find one; a bare name is looked up on PATH; otherwise an absolute path
    mode: Mode
    schedule: str
    parallel: int
    thresholds: Thresholds
    ignore_file: Path | None
    timeout: float
    var_files: tuple[Path, ...]
    backend_config: dict[str, str]
    env: dict[str, str]
    breaker_failures: int  # consecutive failed heals that open the breaker (auto-apply off until reset)
    max_applies_per_hour: int  # automatic applies allowed per workspace per rolling hour
    flapping: Flapping = Flapping(window_s=86400.0, heals=3)


class LlmSettings(_Frozen):
    """The OpenAI-compatible endpoint for the LLM drafter; the key is read from ``api_key_env``, never
    written in the file. ``max_attempts``: redrafts after a failed verification."""

    base_url: str
    model: str
    api_key_env: str
    timeout_s: float
    max_retries: int
    max_attempts: int
    budget_s: float = 300  # every LLM request of one run together; then the rules drafter takes over


class AuditSettings(_Frozen):
    """Where the audit chain's key comes from: ``$key_env``, else ``key_file`` (absolute), else
    ``audit.key`` next to the database (see ``driftctl.audit.keys``)."""

    key_env: str | None = None
    key_file: Path | None = None


class Config(_Frozen):
    """A loaded ``driftctl.yaml``."""

    path: Path  # the config file, absolute
    version: int
    workspaces: tuple[WorkspaceConfig, ...]
    llm: LlmSettings | None = None
    audit: AuditSettings = AuditSettings()
    service: ServiceSettings | None = None  # `driftctl serve` (docs/service.md)
    forge: ForgeSettings | None = None  # pull requests and comment commands (driftctl.forge)
    fleet: FleetSettings | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(w.name for w in self.workspaces)

    def workspace(self, name: str) -> WorkspaceConfig:
        """The workspace called ``name``, or ``ConfigError`` listing the known names."""
        for ws in self.workspaces:
            if ws.name == name:
                return ws
        raise ConfigError(f"unknown workspace {name!r} in {self.path}; known: {', '.join(self.names)}")

    def select(self, names: Sequence[str]) -> tuple[WorkspaceConfig, ...]:
        """The named workspaces in the order asked (repeats dropped); no names means all of them."""
        if not names:
            return self.workspaces
        unknown = [n for n in dict.fromkeys(names) if n not in self.names]
        if unknown:
            raise ConfigError(
                f"unknown workspace{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                f"in {self.path}; known: {', '.join(self.names)}"
            )
        return tuple(self.workspace(n) for n in dict.fromkeys(names))


def find_config(start: Path | None = None) -> Path | None:
    """``driftctl.yaml`` or ``driftctl.yml`` in ``start`` (default: the current directory), if present."""
    directory = Path.cwd() if start is None else start
    found = [directory / n for n in CONFIG_NAMES if (directory / n).is_file()]
    if len(found) > 1:
        # Picking one silently would leave the user editing a file that is never read.
        raise ConfigError(f"both {found[0]} and {found[1]} exist; keep one")
    return found[0] if found else None


def load_config(path: Path) -> Config:
    """Read, validate and merge ``path``; any problem → ``ConfigError`` naming file, line and key."""
    source = read_yaml(path, what="config file")
    assert source is not None  # allow_empty is False
    raw = source.validate(
        _ConfigIn, extra=duplicate_values(source.data, "workspaces", "name", "workspace name")
    )
    base = Path(os.path.abspath(path.parent))
    return Config(
        path=Path(os.path.abspath(path)),
        version=raw.version,
        workspaces=tuple(_merge(base, raw.defaults, ws) for ws in raw.workspaces),
        llm=LlmSettings(**raw.llm.model_dump()) if raw.llm is not None else None,
        service=raw.service,
        forge=raw.forge,
        fleet=raw.fleet,
        audit=AuditSettings(
            key_env=raw.audit.key_env,
            key_file=_absolute(base, raw.audit.key_file) if raw.audit.key_file else None,
        ),
    )


def load_audit_settings(path: Path) -> AuditSettings:
    """Only the ``audit:`` section of ``path`` (the rest is not validated), with ``key_file`` absolute."""
    source = read_yaml(path, what="config file", allow_empty=True)
    if source is None or not isinstance(source.data, dict):
        return AuditSettings()
    raw = source.validate(_AuditOnlyIn).audit
    base = Path(os.path.abspath(path.parent))
    return AuditSettings(
        key_env=raw.key_env, key_file=_absolute(base, raw.key_file) if raw.key_file else None
    )


def duplicate_values(data: Any, list_key: str, field: str, what: str) -> list[tuple[Loc, str]]:
    """Problems for items of ``data[list_key]`` sharing a ``field`` value (e.g. two workspaces named a).

    Checked on the raw data so a duplicate is reported together with every other problem.
    """
    items = data.get(list_key) if isinstance(data, dict) else None
    first: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        value = item.get(field) if isinstance(item, dict) else None
        if isinstance(value, str):
            if value in first:
                problems.append(
                    ((list_key, i, field), f"duplicate {what} {value!r} (also {list_key}[{first[value]}])")
                )
            first.setdefault(value, i)
    return problems


def _merge(base: Path, defaults: _SettingsIn, ws: _WorkspaceIn) -> WorkspaceConfig:
    def pick(field: str, lower: BaseModel, upper: BaseModel) -> Any:
        # Set explicitly in the workspace (even to null) wins; else defaults, whose unset fields are built-in.
        return getattr(upper if field in upper.model_fields_set else lower, field)

    root = _absolute(base, ws.path)
    ignore_file = pick("ignore_file", defaults, ws)
    return WorkspaceConfig(
        name=ws.name,
        path=root,
        terraform=_binary(base, pick("terraform", defaults, ws)),
        mode=pick("mode", defaults, ws),
        schedule=pick("schedule", defaults, ws),
        parallel=pick("parallel", defaults, ws),
        thresholds=Thresholds(
            confidence=pick("confidence", defaults.thresholds, ws.thresholds),
            max_risk=pick("max_risk", defaults.thresholds, ws.thresholds),
        ),
        ignore_file=None if ignore_file is None else _absolute(root, ignore_file),
        timeout=float(pick("timeout", defaults, ws)),
        var_files=tuple(_absolute(root, f) for f in pick("var_files", defaults, ws)),
        backend_config={**defaults.backend_config, **ws.backend_config},
        env={**defaults.env, **ws.env},
        breaker_failures=pick("breaker_failures", defaults, ws),
        max_applies_per_hour=pick("max_applies_per_hour", defaults, ws),
        flapping=Flapping(
            window_s=parse_duration(pick("window", defaults.flapping, ws.flapping)),
            heals=pick("heals", defaults.flapping, ws.flapping),
        ),
    )


def _absolute(base: Path, value: str) -> Path:
    # normpath, not resolve(): a symlinked workspace directory keeps the name the user gave it.
    return Path(os.path.normpath(base / os.path.expanduser(value)))


def _binary(base: Path, value: str | None) -> str | None:
    if value is None or ("/" not in value and os.sep not in value and not value.startswith("~")):
        return value  # None or a bare name, which is looked up on PATH when it is run
    return str(_absolute(base, value))
