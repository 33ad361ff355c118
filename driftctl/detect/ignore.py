"""Ignore rules: reads ``.driftctl-ignore.yaml`` and ``--ignore``, filters findings (I/O: reads the file).

A rule names an address glob and an attribute-path glob, and says who owns the exception and why. Globs
know only ``*`` (any run of characters, dots and brackets included) and ``?``; ``[`` and ``]`` are literal
because Terraform addresses are full of them (``aws_instance.web[0]``, ``module.m["a"].x.y``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from driftctl.errors import ConfigError
from driftctl.models import Alert, Finding, FindingKind, IgnoredChange

EVERY_PATH = "*"  # the only path glob that also ignores a deleted resource

CLI_OWNER = "cli"
CLI_REASON = "--ignore"


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    """One exception: drift at ``address`` on ``path`` is expected, until ``expires`` (inclusive)."""

    address: str
    path: str
    reason: str
    owner: str
    expires: date | None = None
    source: str = ""  # where it came from: "file .driftctl-ignore.yaml:3", "--ignore 'aws_x.y:tags.*'"

    def describe(self) -> str:
        """``address-glob path-glob (owner: reason)``, as ``IgnoredChange.rule`` shows it."""
        return f"{self.address} {self.path} ({self.owner}: {self.reason})"

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches_address(self, address: str) -> bool:
        return _glob(self.address).fullmatch(address) is not None

    def matches_path(self, path: str) -> bool:
        return _glob(self.path).fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class IgnoreOutcome:
    """Findings left after ignoring (original order), what was ignored, and alerts about the rules."""

    findings: tuple[Finding, ...]
    ignored: tuple[IgnoredChange, ...]
    alerts: tuple[Alert, ...]


@lru_cache(maxsize=512)
def _glob(pattern: str) -> re.Pattern[str]:
    # Not fnmatch: it reads "[0]" as a character class, so "web[0]" would never match the address "web[0]".
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def glob_matches(pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` entirely, where only ``*`` and ``?`` are special."""
    return _glob(pattern).fullmatch(text) is not None


# --- reading rules -------------------------------------------------------------------------------------


def load_ignore_file(path: Path) -> tuple[IgnoreRule, ...]:
    """The rules in ``path``, in file order; a missing or empty file has none. Bad file → ``ConfigError``."""
    if not path.exists():
        return ()
    # Imported here: pydantic and YAML cost ~0.1 s that a run without an ignore file never needs.
    from driftctl.detect.ignore_file import read_rules

    return read_rules(path)


def parse_cli_ignore(spec: str) -> IgnoreRule:
    """``ADDRESS_GLOB[:PATH_GLOB]`` → a rule owned by ``cli``; path defaults to ``*``.

    The split is at the first ``:`` outside ``[...]`` and quotes: ``for_each`` keys may hold colons
    (``aws_iam_role_policy_attachment.x["arn:aws:iam::aws:policy/ro"]``) while a plain address never does,
    and everything after that colon is the path glob, colons and all (``tags.a:b``).
    """
    text = spec.strip()
    cut = _first_free_colon(text)
    address, path = (text, EVERY_PATH) if cut is None else (text[:cut].strip(), text[cut + 1 :].strip())
    if not address:
        raise ConfigError(
            f"--ignore {spec!r}: the address glob is empty", hint="use ADDRESS_GLOB[:PATH_GLOB]"
        )
    if not path:
        raise ConfigError(
            f"--ignore {spec!r}: the path glob after ':' is empty",
            hint="drop the ':' to ignore every path, or give one such as 'tags.*'",
        )
    return IgnoreRule(address, path, reason=CLI_REASON, owner=CLI_OWNER, source=f"--ignore {text!r}")


def _first_free_colon(text: str) -> int | None:
    depth, quote = 0, ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth = max(depth - 1, 0)
        elif c == ":" and depth == 0:
            return i
    if depth or quote:
        raise ConfigError(
            f"--ignore {text!r}: unbalanced {'[' if depth else quote}", hint="quote the whole spec"
        )
    return None


# --- applying rules ------------------------------------------------------------------------------------


def apply_ignores(findings: Sequence[Finding], rules: Sequence[IgnoreRule], *, today: date) -> IgnoreOutcome:
    """Drop ignored changes (and findings left with none); alert on expired and unused rules.

    A change is ignored by the first unexpired rule matching its address and path. A deleted resource is
    ignored only by a rule whose path is exactly ``*``: a rule about its tags says nothing about losing it.
    A rule counts as used when it matches something, even if an earlier rule already ignored it.
    """
    active = [(i, r) for i, r in enumerate(rules) if not r.expired(today)]
    used: set[int] = set()  # indices into rules
    kept: list[Finding] = []
    ignored: list[IgnoredChange] = []
    for finding in findings:
        by_address = [(i, r) for i, r in active if r.matches_address(finding.address)]
        if finding.kind is FindingKind.DELETED:
            whole = [(i, r) for i, r in by_address if r.path == EVERY_PATH]
            used.update(i for i, _ in whole)
            if whole:
                ignored.append(IgnoredChange(finding.address, EVERY_PATH, whole[0][1].describe()))
            else:
                kept.append(finding)
            continue
        remaining = []
        for change in finding.changes:
            hits = [(i, r) for i, r in by_address if r.matches_path(change.path)]
            used.update(i for i, _ in hits)
            if hits:
                ignored.append(IgnoredChange(finding.address, change.path, hits[0][1].describe()))
            else:
                remaining.append(change)
        if len(remaining) == len(finding.changes):
            kept.append(finding)
        elif remaining:
            kept.append(replace(finding, changes=tuple(remaining)))
    return IgnoreOutcome(tuple(kept), tuple(ignored), _alerts(rules, used, today))


def _alerts(rules: Sequence[IgnoreRule], used: set[int], today: date) -> tuple[Alert, ...]:
    alerts = []
    for i, rule in enumerate(rules):
        if rule.expired(today):
            alerts.append(
                Alert(
                    "ignore-expired",
                    f"ignore rule {rule.source} ({rule.address} {rule.path}, owner {rule.owner}) expired on "
                    f"{rule.expires}; its drift is reported again: renew or remove it",
                )
            )
        elif i not in used:
            alerts.append(
                Alert(
                    "ignore-unmatched",
                    f"ignore rule {rule.source} ({rule.address} {rule.path}, owner {rule.owner}) matched no "
                    "drift; remove it if that drift is gone for good",
                )
            )
    return tuple(alerts)
