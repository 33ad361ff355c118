"""A finding's changes as the leaves that differ, each with its full path (no I/O).

The detector reports a changed element of a set block (an S3 encryption ``rule``, a security group
rule) as one removed and one added whole element, and a changed IAM policy as two escaped JSON
strings. A reader wants the one value that moved: ``rule[*].apply_server_side_encryption_by_default[0]
.sse_algorithm: "AES256" → "aws:kms"``. Removed and added set elements at the same path are paired
by likeness and diffed leaf by leaf (``[*]``: an element of a set, which has no index), JSON documents
are parsed and diffed structurally, and whole values too long for one line are spread over their
leaves. The diff itself is the detector's own (`diff_values`), so both agree on what changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from driftctl.detect.findings import SET_ATTRIBUTES, diff_values, key_path
from driftctl.models import SENSITIVE, UNKNOWN, AttributeChange, ChangeKind, Finding, FindingKind

SET_ELEMENT = "[*]"


@dataclass(frozen=True, slots=True)
class Leaf:
    """One differing value. ``document`` names the attribute holding a JSON document ``path`` is inside."""

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None
    document: str | None = None


def json_document(value: Any) -> Any:
    """The object or array a string holds as JSON (an IAM policy), else None."""
    if not isinstance(value, str) or value in (SENSITIVE, UNKNOWN):
        return None
    text = value.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def _one_line(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def flatten(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) for every set leaf of ``value``; a list of scalars is one leaf."""
    if isinstance(value, dict):
        for key in sorted(value):
            if not _is_empty(value[key]):
                yield from flatten(value[key], key_path(path, key))
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for i, item in enumerate(value):
            yield from flatten(item, f"{path}[{i}]")
    else:
        yield path, value


def _leaf(path: str, kind: ChangeKind, value: Any, document: str | None = None) -> Leaf:
    before, after = (value, None) if kind is ChangeKind.REMOVED else (None, value)
    return Leaf(path, kind, before, after, document)


def _whole(path: str, kind: ChangeKind, value: Any, width: int) -> list[Leaf]:
    """An added or removed value: one leaf when it fits on a line, else one per leaf inside it."""
    doc = json_document(value)
    if doc is not None:
        return [_leaf(p, kind, v, document=path) for p, v in flatten(doc, "")]
    if not isinstance(value, dict | list) or len(_one_line(value)) <= width:
        return [_leaf(path, kind, value)]
    return [_leaf(p, kind, v) for p, v in flatten(value, path)]


def _expand(change: AttributeChange, width: int, sets: frozenset[str]) -> list[Leaf]:
    if change.sensitive:
        return [Leaf(change.path, change.kind, change.before, change.after)]
    if change.kind is ChangeKind.MODIFIED:
        before, after = json_document(change.before), json_document(change.after)
        if before is not None and after is not None:
            return [
                Leaf(c.path, c.kind, c.before, c.after, document=change.path)
                for c in diff_values(before, after)
            ]
        return [Leaf(change.path, change.kind, change.before, change.after)]
    value = change.after if change.kind is ChangeKind.ADDED else change.before
    element = change.path + SET_ELEMENT if change.path in sets and isinstance(value, dict) else change.path
    return _whole(element, change.kind, value, width)


def _pair(removed: list[Any], added: list[Any]) -> tuple[list[tuple[Any, Any]], list[Any], list[Any]]:
    """Each removed element with the added one it differs least from, when they share anything; one
    removed and one added element are the same element changed, however much of it changed."""
    if len(removed) == 1 and len(added) == 1:
        return [(removed[0], added[0])], [], []
    pairs: list[tuple[Any, Any]] = []
    left = list(added)
    unpaired: list[Any] = []
    for old in removed:
        scored = [(sum(1 for _ in diff_values(old, new)), i) for i, new in enumerate(left)]
        best = min(scored, default=None)
        if best is not None and best[0] < sum(1 for _ in flatten(old, "")):
            pairs.append((old, left.pop(best[1])))
        else:
            unpaired.append(old)
    return pairs, unpaired, left


def finding_leaves(finding: Finding, width: int) -> list[Leaf]:
    """The leaves of a changed finding, in the order of its changes; none for a deleted one."""
    if finding.kind is FindingKind.DELETED:
        return []
    changes: Sequence[AttributeChange] = finding.changes
    sets = SET_ATTRIBUTES.get(finding.resource.type, frozenset())
    removed = {c.path for c in changes if c.kind is ChangeKind.REMOVED and isinstance(c.before, dict)}
    added = {c.path for c in changes if c.kind is ChangeKind.ADDED and isinstance(c.after, dict)}
    set_paths = (removed & added) - {c.path for c in changes if c.sensitive}
    leaves: list[Leaf] = []
    done: set[str] = set()
    for change in changes:
        if change.path not in set_paths:
            leaves += _expand(change, width, sets)
            continue
        if change.path in done:
            continue
        done.add(change.path)
        group = [c for c in changes if c.path == change.path]
        pairs, gone, new_ones = _pair(
            [c.before for c in group if c.kind is ChangeKind.REMOVED],
            [c.after for c in group if c.kind is ChangeKind.ADDED],
        )
        element = change.path + SET_ELEMENT
        for old, new in pairs:
            leaves += [Leaf(c.path, c.kind, c.before, c.after) for c in diff_values(old, new, path=element)]
        leaves += [leaf for old in gone for leaf in _whole(element, ChangeKind.REMOVED, old, width)]
        leaves += [leaf for new in new_ones for leaf in _whole(element, ChangeKind.ADDED, new, width)]
    return leaves


def changed_paths(finding: Finding) -> list[str]:
    """The attribute paths a finding changes, each once, in order."""
    return list(dict.fromkeys(c.path for c in finding.changes))
