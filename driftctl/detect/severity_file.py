"""Reads and validates severity policy files (I/O: reads one file).

Kept apart from ``severity`` so that pydantic and YAML load only when a policy is not cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from driftctl.config import duplicate_values, read_yaml
from driftctl.detect.severity import (
    _RULE_ID,
    DEFAULT_RULE_ID,
    EVERY,
    UNSET,
    SeverityRule,
    SeverityRules,
)
from driftctl.models import FindingKind, Severity


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


_Text = Annotated[str, StringConstraints(min_length=1)]
_Globs = Annotated[list[_Text], BeforeValidator(_listify), Field(min_length=1)]  # one glob, or a list


class _RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    id: str
    resource: _Globs = [EVERY]
    path: _Globs = [EVERY]
    kind: Annotated[FindingKind, Field(strict=False)] | None = None
    after_contains: Annotated[list[_Text], BeforeValidator(_listify), Field(min_length=1)] | None = None
    after_equals: Any = None
    after_grants_wildcard: bool = False
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
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    version: int
    default: Annotated[Severity, Field(strict=False)] = Severity.MEDIUM
    rules: list[_RuleIn] = []

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value != 1:
            raise ValueError(f"unsupported version {value}; this driftctl reads version 1")
        return value


def read_policy(file: Path) -> SeverityRules:
    """Validate a severity policy file. Bad file → ``ConfigError`` naming the file and line."""
    source = read_yaml(file, what="severity policy")
    assert source is not None  # allow_empty is False
    policy = source.validate(_PolicyIn, extra=duplicate_values(source.data, "rules", "id", "rule id"))
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
            after_grants_wildcard=r.after_grants_wildcard,
            description=r.description,
            source=f"{file}:{source.line_of(('rules', i))}",
        )
        for i, r in enumerate(policy.rules)
    )
    return SeverityRules(default=policy.default, rules=rules, source=str(file))
