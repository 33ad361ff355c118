"""Flapping: an address that drifts again within a window after K heals (pure: no I/O, clock given).

An autoscaler or a console user fighting Terraform makes every heal undone; healing again only moves
the fight. A flapping address is not auto-applied; the proposal suggests adopting reality, or
``lifecycle { ignore_changes = [...] }`` for exactly the paths that keep moving, with the evidence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from driftctl.ledger.model import ItemStatus, LedgerItem, path_steps
from driftctl.models import AttributeChange

DEFAULT_WINDOW = timedelta(hours=24)
DEFAULT_HEALS = 3


@dataclass(frozen=True, slots=True)
class FlapRule:
    """Flag an address when it drifts again after ``heals`` heals within ``window`` (0 heals: never)."""

    window: timedelta = DEFAULT_WINDOW
    heals: int = DEFAULT_HEALS


@dataclass(frozen=True, slots=True)
class Flapping:
    """Why an address is flapping: the heals in the window, and the paths to adopt or ignore."""

    address: str
    healed_at: tuple[datetime, ...]
    paths: tuple[str, ...]
    ignore_changes: tuple[str, ...]
    text: str

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "heals": [t.isoformat() for t in self.healed_at],
            "paths": list(self.paths),
            "ignore_changes": list(self.ignore_changes),
            "evidence": self.text,
        }


def window_text(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 86400 == 0 and seconds > 86400:
        return f"{seconds // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def ignore_changes_ref(path: str) -> str:
    """The ``ignore_changes`` reference for a path: the attribute, or one map key (``tags["owner"]``)."""
    steps = path_steps(path)
    head = str(steps[0])
    if len(steps) > 1 and isinstance(steps[1], str):
        return f"{head}[{json.dumps(steps[1])}]"
    return head


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def _values(changes: Sequence[AttributeChange], paths: set[str]) -> str:
    return ", ".join(f"{c.path} {_short(c.before)} → {_short(c.after)}" for c in changes if c.path in paths)


def flapping(
    item: LedgerItem, history: Sequence[LedgerItem], rule: FlapRule, now: datetime
) -> Flapping | None:
    """The evidence that ``item`` (open) is flapping, given earlier items of its address; else None."""
    if not item.is_open or rule.heals <= 0:
        return None
    since = now - rule.window
    healed = sorted(
        (
            h
            for h in history
            if h.id != item.id
            and h.status is ItemStatus.HEALED
            and h.closed_at is not None
            and since <= h.closed_at <= now
        ),
        key=lambda h: h.closed_at or now,
    )
    if len(healed) < rule.heals:
        return None
    paths = tuple(sorted({c.path for c in item.changes})) or ("(the whole object)",)
    refs = tuple(dict.fromkeys(ignore_changes_ref(p) for p in paths if not p.startswith("(")))
    wanted = set(paths)
    episodes = "; ".join(
        f"drifted {h.first_seen.isoformat(timespec='seconds')} ({_values(h.changes, wanted) or 'changed'}), "
        f"healed {h.closed_at.isoformat(timespec='seconds') if h.closed_at else '?'}"
        for h in healed
    )
    now_text = _values(item.changes, wanted) or item.kind.value
    suggestion = (
        f"adopt reality into the code, or add `lifecycle {{ ignore_changes = [{', '.join(refs)}] }}`"
        if refs
        else "find out who deletes it"
    )
    text = (
        f"{item.address} was healed {len(healed)} time(s) within {window_text(rule.window)} and drifted "
        f"again at {item.first_seen.isoformat(timespec='seconds')} ({now_text}); earlier: {episodes}. "
        f"Something keeps changing it back: {suggestion}"
    )
    return Flapping(item.address, tuple(h.closed_at or now for h in healed), paths, refs, text)
