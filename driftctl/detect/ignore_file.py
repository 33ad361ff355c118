"""Reads `.driftctl-ignore.yaml` files into ignore rules (I/O: reads one file).

Kept apart from ``ignore`` so that pydantic and YAML load only when there is a file to read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from driftctl.config import read_yaml
from driftctl.detect.ignore import EVERY_PATH, IgnoreRule

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    address: _Text
    path: _Text = EVERY_PATH
    reason: _Text
    owner: _Text
    # Lax here only: unquoted YAML dates arrive as dates, quoted ones as "2027-01-31" strings.
    expires: Annotated[date, Field(strict=False)] | None = None


class _IgnoreFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    rules: list[_RuleIn] = []


def read_rules(path: Path) -> tuple[IgnoreRule, ...]:
    """The rules in an existing ignore file, in file order. Bad file → ``ConfigError``."""
    source = read_yaml(path, what="ignore file", allow_empty=True)
    if source is None:
        return ()
    parsed = source.validate(_IgnoreFileIn)
    return tuple(
        IgnoreRule(
            address=r.address,
            path=r.path,
            reason=r.reason,
            owner=r.owner,
            expires=r.expires,
            source=f"file {path}:{source.line_of(('rules', i))}",
        )
        for i, r in enumerate(parsed.rules)
    )
