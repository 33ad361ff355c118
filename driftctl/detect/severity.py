"""Grades findings by data-driven rules from ``policies/severity.yaml`` (I/O: reads the policy file).

A rule matches a change when the resource type, the finding kind, the attribute path and the optional
``after_contains`` / ``after_equals`` tests all hold. Each change gets its highest matching rule, or the
policy's default when none matches; the finding takes the worst of its changes. So a change no rule knows
about is never hidden behind a milder rule that matched its neighbour (a tag edit next to a new user_data).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from driftctl.config import Loc, read_yaml
from driftctl.detect.ignore import glob_matches
from driftctl.models import SENSITIVE, UNKNOWN, AttributeChange, Finding, FindingKind, Severity

SHIPPED_POLICY = Path(__file__).resolve().parents[2] / "policies" / "severity.yaml"
DEFAULT_RULE_ID = "default"
EVERY = "*"

_MASKED = frozenset({SENSITIVE, UNKNOWN})
_RULE_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*")


class _Unset(Enum):
    TOKEN = "unset"


UNSET: Final = _Unset.TOKEN  # ``after_equals`` absent; distinct from ``after_equals: null``


@dataclass(frozen=True, slots=True)
class SeverityRule:
    """One policy rule; ``resources`` and ``paths`` are globs (any may match), ``*`` and ``?`` only."""

    id: str
    severity: Severity
    resources: tuple[str, ...] = (EVERY,)
    paths: tuple[str, ...] = (EVERY,)
    kind: FindingKind | None = None
    after_contains: tuple[str, ...] = ()
    after_equals: Any = UNSET
    description: str = ""
    source: str = ""  # "policies/severity.yaml:12"

    @property
    def needs_change(self) -> bool:
        """False when the rule speaks of the resource as a whole, so it matches even with no changes."""
        return self.paths != (EVERY,) or bool(self.after_contains) or self.after_equals is not UNSET

    def matches_resource(self, finding: Finding) -> bool:
        if self.kind is not None and self.kind is not finding.kind:
            return False
        return any(glob_matches(g, finding.resource.type) for g in self.resources)

    def matches_change(self, change: AttributeChange) -> bool:
        if not any(glob_matches(g, change.path) for g in self.paths):
            return False
        if not self.after_contains and self.after_equals is UNSET:
            return True
        # A masked value is unknown, not the text "(sensitive value)", so it never matches. Only the masked
        # parts are unknown: an ingress rule with a masked description but a visible 0.0.0.0/0 still matches.
        if _masked(change.after):
            return False
        if self.after_contains and not _contains(change.after, self.after_contains):
            return False
        return self.after_equals is UNSET or _same(change.after, self.after_equals)


@dataclass(frozen=True, slots=True)
class SeverityRules:
    """A loaded policy: rules in file order (the first wins a tie) and the severity when none matches."""

    default: Severity
    rules: tuple[SeverityRule, ...]
    source: str = ""


def classify(finding: Finding, rules: SeverityRules) -> Finding:
    """``finding`` with the severity of its worst change and the id of the rule that set it."""
    candidates = [r for r in rules.rules if r.matches_resource(finding)]

    def best(change: AttributeChange | None) -> tuple[int, int, str]:
        # With no change to look at (a deleted resource), only rules about the resource as a whole speak.
        hits = [
            (r.severity.rank, -i, r.id)  # earlier rule wins a tie, the default loses every tie
            for i, r in enumerate(candidates)
            if (r.matches_change(change) if change is not None else not r.needs_change)
        ]
        return max(hits, default=(rules.default.rank, -len(candidates), DEFAULT_RULE_ID))

    graded = [best(c) for c in finding.changes] or [best(None)]
    _, _, rule_id = max(graded)
    severity = next((r.severity for r in candidates if r.id == rule_id), rules.default)
    return replace(finding, severity=severity, severity_rule=rule_id)


def _masked(value: Any) -> bool:
    return isinstance(value, str) and value in _MASKED


def _contains(value: Any, needles: Sequence[str]) -> bool:
    """Whether any leaf of ``value`` (strings as they are, other leaves as JSON) contains a needle."""
    if isinstance(value, dict):
        return any(_contains(v, needles) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_contains(v, needles) for v in value)
    if value is None or _masked(value):
        return False
    text = value if isinstance(value, str) else json.dumps(value)
    return any(n in text for n in needles)


def _same(a: Any, b: Any) -> bool:
    # Through JSON so that False is not 0 and 1 is not True, as Python's == would have it.
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


# --- reading a policy ----------------------------------------------------------------------------------


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


_Text = Annotated[str, StringConstraints(min_length=1)]
_Globs = Annotated[list[_Text], BeforeValidator(_listify), Field(min_length=1)]  # one glob, or a list


class _RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str
    resource: _Globs = [EVERY]
    path: _Globs = [EVERY]
    kind: Annotated[FindingKind, Field(strict=False)] | None = None
    after_contains: Annotated[list[_Text], BeforeValidator(_listify), Field(min_length=1)] | None = None
    after_equals: Any = None
    severity: Annotated[Severity, Field(strict=False)]
    description: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _RULE_ID.fullmatch(value) or value == DEFAULT_RULE_ID:
            raise ValueError(
                f"{value!r} is not a usable rule id (lowercase letters, digits, '-', '_', '.'; not 'default')"
            )
        return value


class _PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: int
    default: Annotated[Severity, Field(strict=False)] = Severity.MEDIUM
    rules: list[_RuleIn] = []

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"unsupported version {value}; this driftctl reads version 1")
        return value


def load_severity_rules(path: Path | None = None) -> SeverityRules:
    """The policy at ``path``, else the shipped ``policies/severity.yaml``. Bad file → ``ConfigError``."""
    file = SHIPPED_POLICY if path is None else path
    source = read_yaml(file, what="severity policy")
    assert source is not None  # allow_empty is False
    policy = source.validate(_PolicyIn, extra=_duplicate_ids(source.data))
    rules = tuple(
        SeverityRule(
            id=r.id,
            severity=r.severity,
            resources=tuple(r.resource),
            paths=tuple(r.path),
            kind=r.kind,
            after_contains=tuple(r.after_contains or ()),
            # model_fields_set, because `after_equals: null` is a test for null, not an absent test.
            after_equals=r.after_equals if "after_equals" in r.model_fields_set else UNSET,
            description=r.description,
            source=f"{file}:{source.line_of(('rules', i))}",
        )
        for i, r in enumerate(policy.rules)
    )
    return SeverityRules(default=policy.default, rules=rules, source=str(file))


def _duplicate_ids(data: Any) -> list[tuple[Loc, str]]:
    items = data.get("rules") if isinstance(data, dict) else None
    first: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for i, rule in enumerate(items if isinstance(items, list) else []):
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if isinstance(rule_id, str):
            if rule_id in first:
                problems.append(
                    (("rules", i, "id"), f"duplicate rule id {rule_id!r} (also rules[{first[rule_id]}])")
                )
            first.setdefault(rule_id, i)
    return problems
