"""Grades findings by data-driven rules from ``policies/severity.yaml`` (I/O: reads the policy file).

A rule matches a change when the resource type, the finding kind, the attribute path and the optional
``after_contains`` / ``after_equals`` / ``after_grants_wildcard`` tests all hold. Each change gets its
highest matching rule, or the policy's default when none matches; the finding takes the worst of its
changes. So a change no rule knows about is never hidden behind a milder rule that matched its neighbour
(a tag edit next to a new user_data).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any, Final

from driftctl.detect.iam_policy import grants_wildcard
from driftctl.detect.ignore import glob_matches
from driftctl.models import SENSITIVE, UNKNOWN, AttributeChange, Finding, FindingKind, Severity
from driftctl.shipped import policy_file

SHIPPED_POLICY = policy_file("severity.yaml")
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
    after_grants_wildcard: bool = False  # the new value is an IAM policy granting wildcards (iam_policy.py)
    description: str = ""
    source: str = ""  # "policies/severity.yaml:12"

    @property
    def needs_change(self) -> bool:
        """False when the rule speaks of the resource as a whole, so it matches even with no changes."""
        return (
            self.paths != (EVERY,)
            or bool(self.after_contains)
            or self.after_equals is not UNSET
            or self.after_grants_wildcard
        )

    def matches_resource(self, finding: Finding) -> bool:
        if self.kind is not None and self.kind is not finding.kind:
            return False
        return any(glob_matches(g, finding.resource.type) for g in self.resources)

    def matches_change(self, change: AttributeChange) -> bool:
        if not any(glob_matches(g, change.path) for g in self.paths):
            return False
        if not self.after_contains and self.after_equals is UNSET and not self.after_grants_wildcard:
            return True
        # A masked value is unknown, not the text "(sensitive value)", so it never matches. Only the masked
        # parts are unknown: an ingress rule with a masked description but a visible 0.0.0.0/0 still matches.
        if _masked(change.after):
            return False
        if self.after_contains and not _contains(change.after, self.after_contains):
            return False
        if self.after_grants_wildcard and not grants_wildcard(change.after):
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


def load_severity_rules(path: Path | None = None) -> SeverityRules:
    """The policy at ``path``, else the shipped ``policies/severity.yaml``. Bad file → ``ConfigError``.

    A validated policy is cached by content hash (``~/.cache/driftctl``), so the usual run reads one
    small JSON file instead of importing pydantic and YAML (~0.2 s of a `detect --plan-file`).
    """
    file = SHIPPED_POLICY if path is None else path
    try:
        content = file.read_bytes()
    except OSError:
        content = None  # the reader below reports it properly
    cache = _cache_file(content) if content is not None else None
    if cache is not None:
        cached = _from_cache(cache, str(file))
        if cached is not None:
            return cached
    from driftctl.detect.severity_file import read_policy

    rules = read_policy(file)
    if cache is not None:
        _to_cache(cache, rules)
    return rules


def _cache_file(content: bytes) -> Path | None:
    import hashlib

    from driftctl import __version__

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256(__version__.encode() + b"\0" + content).hexdigest()[:32]
    return Path(base) / "driftctl" / f"severity-{digest}.json"


def _from_cache(cache: Path, source: str) -> SeverityRules | None:
    try:
        data = json.loads(cache.read_text())
        rules = tuple(
            SeverityRule(
                id=r["id"],
                severity=Severity(r["severity"]),
                resources=tuple(r["resources"]),
                paths=tuple(r["paths"]),
                kind=FindingKind(r["kind"]) if r["kind"] else None,
                after_contains=tuple(r["after_contains"]),
                after_equals=r["after_equals"][0] if r["after_equals"] else UNSET,
                after_grants_wildcard=r["after_grants_wildcard"],
                description=r["description"],
                source=r["source"],
            )
            for r in data["rules"]
        )
        return SeverityRules(default=Severity(data["default"]), rules=rules, source=source)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # no cache, or an unreadable one: validate the file again


def _to_cache(cache: Path, rules: SeverityRules) -> None:
    data = {
        "default": rules.default.value,
        "rules": [
            {
                "id": r.id,
                "severity": r.severity.value,
                "resources": list(r.resources),
                "paths": list(r.paths),
                "kind": r.kind.value if r.kind else None,
                "after_contains": list(r.after_contains),
                "after_equals": [] if r.after_equals is UNSET else [r.after_equals],
                "after_grants_wildcard": r.after_grants_wildcard,
                "description": r.description,
                "source": r.source,
            }
            for r in rules.rules
        ],
    }
    from driftctl.fileio import write_text_safely

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_text_safely(cache, json.dumps(data))
    except (OSError, TypeError, ValueError):
        pass  # a read-only home or an unserialisable after_equals only costs speed
