"""The drift ledger's records and its merge with one plan (pure: no I/O, the clock is an argument).

A ledger item is one drift episode of one address: the attribute changes (``before`` = the values last
applied from reviewed code, ``after`` = reality; masked like every finding), when it was first and last
seen, and how it ended. Terraform writes the refreshed state of a saved plan's whole refresh scope when
it applies it, so drift can vanish from ``resource_drift`` while reality still differs from the code;
``merge`` keeps such drift reported ("absorbed"), and treats the planned change that reverses it as
drift, not as a pending code change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from driftctl.detect.findings import SET_ATTRIBUTES, record_changes
from driftctl.models import (
    UNKNOWN,
    AttributeChange,
    ChangeKind,
    Finding,
    FindingKind,
    LedgerNote,
    PendingChange,
    ResourceAddress,
)
from driftctl.terraform.plan import ChangeRecord


class ItemStatus(StrEnum):
    OPEN = "open"  # reality differs from the reviewed code
    HEALED = "healed"  # reverted by driftctl, and a fresh plan confirmed it
    ADOPTED = "adopted"  # the code was changed to match reality, and applied
    ACCEPTED = "accepted"  # a named human accepted reality as it is
    IGNORED = "ignored"  # a named human chose to ignore it
    GONE = "gone"  # reality matches the code again (fixed by hand, or undone)


CLOSED_BY_HUMAN = (ItemStatus.ACCEPTED, ItemStatus.IGNORED, ItemStatus.ADOPTED)


@dataclass(frozen=True, slots=True)
class LedgerItem:
    """One drift episode of one address in one workspace."""

    id: str
    workspace: str
    resource: ResourceAddress
    kind: FindingKind
    changes: tuple[AttributeChange, ...]
    first_seen: datetime
    last_seen: datetime
    times_seen: int = 1
    provider: str = ""
    status: ItemStatus = ItemStatus.OPEN
    absorbed_at: datetime | None = None
    absorbed_by: str | None = None  # run id of the apply that wrote it into state; None: unknown
    closed_at: datetime | None = None
    closed_by: str | None = None  # a run id, or a human's name
    reason: str | None = None
    flapping_since: datetime | None = None

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def is_open(self) -> bool:
        return self.status is ItemStatus.OPEN

    def closed(
        self, status: ItemStatus, at: datetime, by: str | None, reason: str | None = None
    ) -> LedgerItem:
        return replace(self, status=status, closed_at=at, closed_by=by, reason=reason)


@dataclass(frozen=True, slots=True)
class LastApply:
    """The newest apply driftctl finished in the workspace: who wrote state last, and when."""

    at: datetime
    run_id: str


@dataclass(frozen=True, slots=True)
class PlanView:
    """What merging needs from one plan: its findings, pending changes, planned changes and state."""

    findings: tuple[Finding, ...]
    pending: tuple[PendingChange, ...]
    planned: Mapping[str, ChangeRecord]  # resource_changes by address
    prior: Mapping[str, Any]  # refreshed state values of the ledger's addresses; absent = not in state


@dataclass(frozen=True, slots=True)
class Merged:
    findings: tuple[Finding, ...]  # the plan's, and the drift only the ledger still knows about
    pending: tuple[PendingChange, ...]  # less the changes that revert a ledger item
    items: tuple[LedgerItem, ...]  # every item that changed: new, seen again, carried, or closed


# -- paths and values ----------------------------------------------------------------------------------

_STEP = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
_MISSING = object()


def path_steps(path: str) -> list[str | int]:
    """``tags["a.b"]`` → ``["tags", "a.b"]``; ``ingress[0].from_port`` → ``["ingress", 0, "from_port"]``."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _STEP.match(path, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"not an attribute path: {path!r}")
        name, index, quoted = match.groups()
        steps.append(name if name is not None else int(index) if index is not None else json.loads(quoted))
        pos = match.end()
    return steps


def value_at(values: Any, path: str) -> Any:
    """The value at ``path`` inside ``values``, or ``_MISSING``."""
    current = values
    for step in path_steps(path):
        if isinstance(step, int):
            if not (isinstance(current, list) and 0 <= step < len(current)):
                return _MISSING
            current = current[step]
        elif isinstance(current, dict) and step in current:
            current = current[step]
        else:
            return _MISSING
    return current


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _empty(value: Any) -> bool:
    return value is _MISSING or value in (None, [], {}, "")


def _key(change: AttributeChange, set_paths: frozenset[str]) -> tuple[str, str]:
    """Changes at one set attribute are told apart by their element; others by their path."""
    if change.path in set_paths:
        element = change.after if change.kind is ChangeKind.ADDED else change.before
        return change.path, f"{change.kind.value}:{_canon(element)}"
    return change.path, ""


def still_in_reality(change: AttributeChange, state: Any, set_paths: frozenset[str], reverted: bool) -> bool:
    """Whether state, which no longer differs from reality here, still holds the drifted value.

    A masked (sensitive) value cannot be compared: it counts as drift while a planned change reverts it.
    """
    if change.sensitive:
        return reverted
    found = value_at(state, change.path)
    if change.path in set_paths:
        elements = {_canon(e) for e in found} if isinstance(found, list) else set()
        if change.kind is ChangeKind.ADDED:
            return _canon(change.after) in elements
        return _canon(change.before) not in elements
    if change.kind is ChangeKind.REMOVED:
        return _empty(found)
    return found is not _MISSING and _canon(found) == _canon(change.after)


def _reversals(changes: Iterable[AttributeChange]) -> set[tuple[str, str, str]]:
    """(path, planned before, planned after) of the planned changes that would undo ``changes``."""
    return {(c.path, _canon(c.after), _canon(c.before)) for c in changes}


def _planned_paths(record: ChangeRecord | None) -> set[tuple[str, str, str]]:
    if record is None:
        return set()
    return {(c.path, _canon(c.before), _canon(c.after)) for c in record_changes(record) if c.after != UNKNOWN}


# -- the merge -----------------------------------------------------------------------------------------


def _merge_changes(
    seen: Sequence[AttributeChange],
    item: LedgerItem,
    state: Any,
    set_paths: frozenset[str],
    planned: set[tuple[str, str, str]],
) -> tuple[list[AttributeChange], bool]:
    """The item's changes after this plan, and whether any of them is only in the ledger (absorbed).

    Where the plan shows drift at a path the ledger already holds, state's ``before`` may itself be
    absorbed drift: the last applied value is then the ledger's, and reality the plan's. Masked
    (sensitive) values cannot be compared that way: the plan's change stands as it is.
    """
    recorded = {_key(c, set_paths): c for c in item.changes}
    out: list[AttributeChange] = []
    for change in seen:
        old = recorded.pop(_key(change, set_paths), None)
        if (
            old is not None
            and not (change.sensitive or old.sensitive)
            and change.path not in set_paths
            and _canon(change.before) == _canon(old.after)
        ):
            if _canon(change.after) == _canon(old.before):
                continue  # reality went back to the reviewed code
            kind = (
                ChangeKind.ADDED
                if old.before is None
                else ChangeKind.REMOVED
                if change.after is None
                else ChangeKind.MODIFIED
            )
            out.append(AttributeChange(change.path, kind, old.before, change.after, change.sensitive))
        else:
            out.append(change)
    absorbed = False
    for old in recorded.values():
        reverted = next(iter(_reversals([old]))) in planned
        if still_in_reality(old, state, set_paths, reverted):
            out.append(old)
            absorbed = True
    return sorted(out, key=lambda c: (c.path, c.kind.value)), absorbed


def _note(item: LedgerItem) -> LedgerNote:
    return LedgerNote(
        first_seen=item.first_seen.isoformat(),
        times_seen=item.times_seen,
        absorbed_at=item.absorbed_at.isoformat() if item.absorbed_at else None,
        absorbed_by=item.absorbed_by,
    )


def _finding(item: LedgerItem, base: Finding | None) -> Finding:
    if base is not None:
        return replace(base, changes=item.changes, ledger=_note(item))
    return Finding(item.resource, item.kind, item.changes, provider=item.provider, ledger=_note(item))


def new_item(item_id: str, workspace: str, finding: Finding, now: datetime) -> LedgerItem:
    return LedgerItem(
        id=item_id,
        workspace=workspace,
        resource=finding.resource,
        kind=finding.kind,
        changes=finding.changes,
        first_seen=now,
        last_seen=now,
        provider=finding.provider,
    )


def merge(
    workspace: str,
    view: PlanView,
    open_items: Sequence[LedgerItem],
    *,
    now: datetime,
    new_id: Iterable[str],
    last_apply: LastApply | None = None,
) -> Merged:
    """One plan merged with the workspace's open ledger items. ``new_id`` yields ids for new items."""
    ids = iter(new_id)
    by_address = {i.address: i for i in open_items if i.is_open}
    findings: list[Finding] = []
    items: list[LedgerItem] = []

    def absorbed(item: LedgerItem) -> LedgerItem:  # before ``seen``: compares the last sighting
        if item.absorbed_at is not None:
            return item
        by = last_apply.run_id if last_apply is not None and last_apply.at > item.last_seen else None
        return replace(item, absorbed_at=now, absorbed_by=by)

    def seen(item: LedgerItem, **fields: Any) -> LedgerItem:
        return replace(item, last_seen=now, times_seen=item.times_seen + 1, **fields)

    for finding in view.findings:
        old = by_address.pop(finding.address, None)
        if old is None:
            item = new_item(next(ids), workspace, finding, now)
        elif finding.kind is FindingKind.DELETED or old.kind is FindingKind.DELETED:
            if finding.kind is old.kind:
                item = seen(old, changes=finding.changes)
            else:
                items.append(old.closed(ItemStatus.GONE, now, None, f"now {finding.kind.value}"))
                item = new_item(next(ids), workspace, finding, now)
        else:
            set_paths = SET_ATTRIBUTES.get(finding.resource.type, frozenset())
            planned = _planned_paths(view.planned.get(finding.address))
            state = view.prior.get(finding.address)
            changes, carried = _merge_changes(finding.changes, old, state, set_paths, planned)
            if not changes:
                items.append(old.closed(ItemStatus.GONE, now, None, "reality is back to the reviewed code"))
                continue
            fresh = absorbed(old) if carried else replace(old, absorbed_at=None, absorbed_by=None)
            item = seen(fresh, changes=tuple(changes))
        items.append(item)
        findings.append(_finding(item, finding))

    for old in by_address.values():
        record = view.planned.get(old.address)
        if old.kind is FindingKind.DELETED:
            recreate = record is not None and record.actions == ("create",)
            if old.address not in view.prior and recreate:
                item = seen(absorbed(old))
                items.append(item)
                findings.append(_finding(item, None))
            else:
                items.append(old.closed(ItemStatus.GONE, now, None, "the object exists again"))
            continue
        set_paths = SET_ATTRIBUTES.get(old.resource.type, frozenset())
        state = view.prior.get(old.address)
        changes, _ = _merge_changes((), old, state, set_paths, _planned_paths(record))
        if not changes:
            items.append(old.closed(ItemStatus.GONE, now, None, "reality is back to the reviewed code"))
            continue
        item = seen(absorbed(old), changes=tuple(changes))
        items.append(item)
        findings.append(_finding(item, None))

    still_open = {i.address: i for i in items if i.is_open}
    return Merged(
        findings=tuple(sorted(findings, key=lambda f: f.address)),
        pending=tuple(p for p in (_pending(p, still_open, view) for p in view.pending) if p is not None),
        items=tuple(items),
    )


def _pending(
    change: PendingChange, open_items: Mapping[str, LedgerItem], view: PlanView
) -> PendingChange | None:
    """The pending change less what reverts an open ledger item (drift, not code); None if nothing is left."""
    item = open_items.get(change.address)
    if item is None:
        return change
    if item.kind is FindingKind.DELETED:
        return None if change.actions == ("create",) else change
    reverts = _reversals(item.changes)
    planned = _planned_paths(view.planned.get(change.address))
    code = {path for path, before, after in planned if (path, before, after) not in reverts}
    paths = tuple(sorted(p for p in change.paths if p in code))
    if not paths and change.actions == ("update",):
        return None
    return replace(change, paths=paths)
