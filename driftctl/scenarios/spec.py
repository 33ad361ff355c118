"""Scenario files (``scenarios/*.yaml``) read and validated, with file:line errors (I/O: reads files).

A scenario names the out-of-band changes to make on the sandbox (mutations, and optionally a pending
code change), the mode to reconcile in, the findings that must be detected with the decision and
outcome each must get, and the end state: what still drifts and what stays pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from driftctl.config import read_yaml
from driftctl.errors import ConfigError

Outcome = Literal["healed", "proposed", "blocked", "needs_human", "heal_failed", "detected"]
DecisionName = Literal["auto_apply", "propose", "block", "none"]
Severity = Literal["critical", "high", "medium", "low", "info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Injection(_Strict):
    mutation: Annotated[str, Field(min_length=1)]
    address: str | None = None
    params: dict[str, str] = {}


class CodeChange(_Strict):
    """A pending code change made next to the drift: ``find`` replaced by ``replace`` in ``file``."""

    file: Annotated[str, Field(min_length=1)]  # relative to the sandbox stack root (terraform/…, modules/…)
    find: Annotated[str, Field(min_length=1)]
    replace: str


class Expected(_Strict):
    severity: Severity | None = None
    decision: DecisionName | None = None
    outcome: Outcome
    strategy: Literal["revert", "adopt"] | None = None


class Expect(_Strict):
    findings: Annotated[dict[str, Expected], Field(min_length=1)]
    remaining: list[str] = []  # addresses a fresh detect still finds drifted after reconcile
    pending: list[str] = []  # addresses with pending code changes after reconcile (never applied)
    patch_contains: list[str] = []  # text the adopt proposal's patch must contain
    exit_code: int | None = None


class Scenario(_Strict):
    name: Annotated[str, Field(min_length=1)]
    summary: Annotated[str, Field(min_length=1)]
    mode: Literal["auto", "propose", "detect"] = "auto"
    strategy: Literal["revert", "adopt"] | None = None  # force it (as `reconcile --strategy`); None: policy
    inject: Annotated[list[Injection], Field(min_length=1)]
    code_change: CodeChange | None = None
    expect: Expect


@dataclass(frozen=True, slots=True)
class ScenarioFile:
    path: Path
    scenario: Scenario


def load_scenario(path: Path) -> ScenarioFile:
    source = read_yaml(path, what="scenario file")
    assert source is not None
    scenario = source.validate(Scenario)
    if scenario.name != path.stem:
        raise ConfigError(f"{path}:1: name: {scenario.name!r} must match the file name {path.stem!r}")
    return ScenarioFile(path, scenario)


def load_scenarios(directory: Path, names: tuple[str, ...] = ()) -> list[ScenarioFile]:
    """Every scenario in ``directory`` (sorted), or the named ones; unknown names list the known ones."""
    if not directory.is_dir():
        raise ConfigError(f"{directory}: no scenarios directory")
    files = {p.stem: p for p in sorted(directory.glob("*.yaml"))}
    unknown = [n for n in names if n not in files]
    if unknown:
        raise ConfigError(f"unknown scenario {', '.join(map(repr, unknown))}; known: {', '.join(files)}")
    problems: list[str] = []
    loaded = []
    for name in names or tuple(files):
        try:
            loaded.append(load_scenario(files[name]))
        except ConfigError as exc:
            problems.append(exc.message)
    if problems:
        raise ConfigError("\n".join(problems))
    return loaded
