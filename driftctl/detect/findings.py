"""Turns parsed plan records into drift findings and pending code changes (no I/O).

Drift is ``resource_drift``: before = the last applied state, after = reality. Pending code changes
are ``resource_changes`` that drift does not explain. Attribute paths are exact
(``ingress[0].cidr_blocks[1]``, ``tags.owner``, ``tags["a.b"]``); blocks that Terraform treats as sets
are compared as sets, so an added rule is one added element rather than an index shuffle.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from driftctl.models import (
    SENSITIVE,
    UNKNOWN,
    AttributeChange,
    ChangeKind,
    Finding,
    FindingKind,
    PendingChange,
)
from driftctl.terraform.plan import ChangeRecord, Plan

# Attributes the AWS provider models as sets (schema nesting "set" or type ["set", …]). Without the
# provider schema (a plan file alone) this table is the source of truth; unknown lists keep indices.
SET_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "aws_security_group": frozenset({"ingress", "egress"}),
    "aws_instance": frozenset({"vpc_security_group_ids", "security_groups"}),
    "aws_s3_bucket_server_side_encryption_configuration": frozenset({"rule"}),
    "aws_network_acl": frozenset({"ingress", "egress", "subnet_ids"}),
    "aws_lb": frozenset({"security_groups", "subnets"}),
    "aws_lambda_function": frozenset({"layers"}),
    "aws_iam_role": frozenset({"managed_policy_arns", "inline_policy"}),
    "aws_db_instance": frozenset({"vpc_security_group_ids"}),
    "aws_elasticache_cluster": frozenset({"security_group_ids"}),
    "aws_autoscaling_group": frozenset({"vpc_zone_identifier", "load_balancers", "target_group_arns"}),
}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@functools.lru_cache(maxsize=4096)
def _step(key: str) -> str:
    return f".{key}" if _IDENT.match(key) else f"[{json.dumps(key)}]"


def key_path(parent: str, key: str) -> str:
    step = _step(key)
    return step[1:] if not parent and step[0] == "." else parent + step


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def diff_values(
    before: Any,
    after: Any,
    *,
    set_paths: frozenset[str] = frozenset(),
    path: str = "",
    hidden: frozenset[str] = frozenset(),
) -> Iterator[AttributeChange]:
    """Every attribute path where ``before`` and ``after`` differ, depth first, in key order.

    ``hidden`` holds the paths (and their ancestors) of masked values that read the same but changed
    (see ``hidden_paths``): each is a ``modified`` change from ``(sensitive value)`` to itself.
    """
    if before == after and path not in hidden:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            child = key_path(path, key)
            if key not in before:
                if after[key] is not None:
                    yield AttributeChange(child, ChangeKind.ADDED, None, after[key])
            elif key not in after:
                if before[key] is not None:
                    yield AttributeChange(child, ChangeKind.REMOVED, before[key], None)
            else:
                yield from diff_values(
                    before[key], after[key], set_paths=set_paths, path=child, hidden=hidden
                )
        return
    if isinstance(before, list) and isinstance(after, list):
        if path in set_paths:
            found = list(_diff_set(before, after, path))
            if not found and path in hidden:  # a masked value inside an element changed
                found = [AttributeChange(path, ChangeKind.MODIFIED, SENSITIVE, SENSITIVE)]
            yield from found
            return
        for i in range(max(len(before), len(after))):
            child = f"{path}[{i}]"
            if i >= len(before):
                yield AttributeChange(child, ChangeKind.ADDED, None, after[i])
            elif i >= len(after):
                yield AttributeChange(child, ChangeKind.REMOVED, before[i], None)
            else:
                yield from diff_values(before[i], after[i], set_paths=set_paths, path=child, hidden=hidden)
        return
    if before is None and after not in (None, [], {}):
        yield AttributeChange(path, ChangeKind.ADDED, None, after)
    elif after is None and before not in (None, [], {}):
        yield AttributeChange(path, ChangeKind.REMOVED, before, None)
    elif before in (None, [], {}) and after in (None, [], {}):
        return  # null, empty list and empty map mean the same to a user
    else:
        yield AttributeChange(path, ChangeKind.MODIFIED, before, after)


def _diff_set(before: list[Any], after: list[Any], path: str) -> Iterator[AttributeChange]:
    before_keys = {_canon(v): v for v in before}
    after_keys = {_canon(v): v for v in after}
    for key in sorted(before_keys.keys() - after_keys.keys()):
        yield AttributeChange(path, ChangeKind.REMOVED, before_keys[key], None)
    for key in sorted(after_keys.keys() - before_keys.keys()):
        yield AttributeChange(path, ChangeKind.ADDED, None, after_keys[key])


def collapse_tags(changes: Sequence[AttributeChange]) -> tuple[AttributeChange, ...]:
    """Drop ``tags_all.X`` when ``tags.X`` carries the same change: one edit, reported once.

    A sensitive ``tags.X`` drops ``tags_all.X`` whatever it shows: the provider's copy loses the mark,
    and a secret too short to be masked everywhere would show there in clear.
    """
    tag_changes = [c for c in changes if c.path.startswith(("tags.", "tags["))]
    tagged = {(c.path[len("tags") :], c.before, c.after) for c in tag_changes}
    secret = {c.path[len("tags") :] for c in tag_changes if c.sensitive}
    kept = []
    for change in changes:
        if change.path.startswith(("tags_all.", "tags_all[")):
            key = change.path[len("tags_all") :]
            if (key, change.before, change.after) in tagged or key in secret:
                continue
        elif change.path == "tags_all" and any(
            c.path.startswith(("tags.", "tags[")) or c.path == "tags" for c in changes
        ):
            continue
        kept.append(change)
    return tuple(kept)


def _sensitive(change: AttributeChange) -> AttributeChange:
    if _contains(change.before) or _contains(change.after):
        return AttributeChange(change.path, change.kind, change.before, change.after, sensitive=True)
    return change


def _contains(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_contains(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains(v) for v in value)
    return isinstance(value, str) and value == SENSITIVE


def hidden_paths(
    keys: Iterable[Sequence[str | int]], set_paths: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Attribute paths of ``ChangeRecord.hidden`` key sequences, with every ancestor path ("" too).

    A path stops at a set attribute, which ``diff_values`` compares whole.
    """
    out: set[str] = set()
    for seq in keys:
        path = ""
        out.add(path)
        for key in seq:
            if path in set_paths:
                break
            path = f"{path}[{key}]" if isinstance(key, int) else key_path(path, key)
            out.add(path)
    return frozenset(out)


def record_changes(record: ChangeRecord) -> tuple[AttributeChange, ...]:
    set_paths = SET_ATTRIBUTES.get(record.resource.type, frozenset())
    hidden = hidden_paths(record.hidden, set_paths) if record.hidden else frozenset()
    return collapse_tags(
        [_sensitive(c) for c in diff_values(record.before, record.after, set_paths=set_paths, hidden=hidden)]
    )


def drift_findings(records: Iterable[ChangeRecord]) -> list[Finding]:
    """One finding per drifted resource: deleted, or changed with its attribute changes."""
    findings = []
    for record in records:
        if record.after is None:
            findings.append(Finding(record.resource, FindingKind.DELETED, (), provider=record.provider))
            continue
        changes = record_changes(record)
        if changes:
            findings.append(Finding(record.resource, FindingKind.CHANGED, changes, provider=record.provider))
    return sorted(findings, key=lambda f: f.address)


def pending_changes(
    changes: Iterable[ChangeRecord],
    drift: Iterable[ChangeRecord],
    drift_changes: Mapping[str, Sequence[AttributeChange]] | None = None,
) -> list[PendingChange]:
    """Planned changes the code asks for that are not a revert of drift.

    In a plan that refreshed, reverting drift shows up in ``resource_changes`` too. A planned change
    at a path is a revert when it is exactly the drift turned around (reality → last state); anything
    else there — a path drift did not touch, or a different value at one it did — is pending code.
    ``drift_changes`` (address → the findings' changes) saves recomputing them.
    """
    drift_by_address = {d.resource.address: d for d in drift}
    known = drift_changes or {}
    pending = []
    for change in changes:
        drifted = drift_by_address.get(change.resource.address)
        if change.actions == ("delete",):
            pending.append(PendingChange(change.resource, change.actions))
            continue
        if drifted is not None and drifted.after is None:
            # Deleted out of band: re-creating the last state is the revert; differences are code.
            code_paths = _code_paths(drifted.before, change.after, change.resource.type)
            if code_paths:
                pending.append(PendingChange(change.resource, change.actions, code_paths))
            continue
        if change.actions == ("create",):
            pending.append(PendingChange(change.resource, change.actions))
            continue
        reverts: set[tuple[str, str, str]] = set()
        if drifted is not None:
            drift_seen = known.get(drifted.resource.address)
            for d in drift_seen if drift_seen is not None else record_changes(drifted):
                reverts.add((d.path, _canon(d.after), _canon(d.before)))
        paths = {
            c.path
            for c in record_changes(change)
            if c.after != UNKNOWN and (c.path, _canon(c.before), _canon(c.after)) not in reverts
        }
        if paths or (drifted is None and change.actions != ("update",)):
            pending.append(PendingChange(change.resource, change.actions, tuple(sorted(paths))))
    return sorted(pending, key=lambda p: p.address)


def _code_paths(last_state: Any, planned: Any, resource_type: str) -> tuple[str, ...]:
    set_paths = SET_ATTRIBUTES.get(resource_type, frozenset())
    changes = diff_values(last_state, planned, set_paths=set_paths)
    return tuple(sorted({c.path for c in changes if c.after != UNKNOWN}))


def detect_plan(plan: Plan) -> tuple[list[Finding], list[PendingChange]]:
    """Findings and pending changes of one parsed plan."""
    findings = drift_findings(plan.drift)
    seen = {f.address: f.changes for f in findings}
    return findings, pending_changes(plan.changes, plan.drift, seen)
