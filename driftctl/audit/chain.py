"""The audit hash chain: canonical JSON, entry hashes and chain verification (pure, no I/O).

Each audit row stores ``hash = sha256(prev_hash + "\\n" + canonical(fields))`` where ``fields`` are
all of the row's columns except ``hash`` and ``prev_hash`` is the previous row's hash (``GENESIS``
for seq 1). A separate head record keeps the last seq and hash. Editing a row breaks its own hash,
deleting one leaves a gap in the seqs (or a head that points past the end), and re-hashing an edited
row breaks the next row's ``prev_hash``. What the chain cannot catch is someone rewriting every row
from the edit onwards *and* the head; export the head elsewhere if that matters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "ts", "run_id", "workspace", "kind", "subject", "status", "data", "prev_hash")
MAX_PROBLEMS = 200  # a bulk edit would otherwise list every row; the first ones locate it


def canonical(obj: Any) -> bytes:
    """``obj`` as canonical JSON bytes: sorted keys, no spaces, UTF-8, non-JSON values as ``str``."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8"
    )


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hex sha256 of one entry: its predecessor's hash, a newline, then its canonical fields."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(dict(fields))).hexdigest()


def hashed_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``row`` that its hash covers; ``data`` as stored text (or canonicalised if not text)."""
    fields = {name: row.get(name) for name in HASHED_FIELDS}
    if not isinstance(fields["data"], str):
        # An exported row carries data as an object; the stored text is its canonical form.
        fields["data"] = canonical(fields["data"]).decode("utf-8")
    return fields


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verdict on a chain: intact or not, rows checked, and each problem naming its seq."""

    ok: bool
    checked: int
    problems: tuple[str, ...]
    head: tuple[int, str] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "problems": list(self.problems),
            "head": {"seq": self.head[0], "hash": self.head[1]} if self.head else None,
        }


class ChainVerifier:
    """Checks rows one at a time in seq order, so a long chain never has to sit in memory at once."""

    def __init__(self) -> None:
        self._problems: list[str] = []
        self._dropped = 0
        self._checked = 0
        self._last: tuple[int, str] | None = None  # (seq, stored hash) of the previous row

    def _problem(self, text: str) -> None:
        if len(self._problems) < MAX_PROBLEMS:
            self._problems.append(text)
        else:
            self._dropped += 1

    def feed(self, row: Mapping[str, Any]) -> None:
        """Check one row against its own contents and against the row before it."""
        seq, stored = int(row["seq"]), str(row.get("hash"))
        prev_hash = str(row.get("prev_hash"))
        self._checked += 1
        if entry_hash(prev_hash, hashed_fields(row)) != stored:
            self._problem(f"seq {seq}: hash does not match its contents (edited)")
        if self._last is None:
            if seq != 1:
                missing = "seq 1" if seq == 2 else f"seqs 1-{seq - 1}"
                self._problem(f"the first row is seq {seq}: {missing} missing (deleted from the start)")
            elif prev_hash != GENESIS:
                self._problem("seq 1: prev_hash is not the genesis hash")
        else:
            last_seq, last_hash = self._last
            if seq <= last_seq:
                self._problem(f"seq {seq}: out of order after seq {last_seq}")
            elif seq > last_seq + 1:
                gap = f"seq {last_seq + 1}" if seq == last_seq + 2 else f"seqs {last_seq + 1}-{seq - 1}"
                self._problem(f"{gap} missing (deleted) between {last_seq} and {seq}")
            elif prev_hash != last_hash:
                self._problem(f"seq {seq}: prev_hash does not match seq {last_seq}'s hash")
        self._last = (seq, stored)

    def finish(self, head: tuple[int, str] | None) -> ChainReport:
        """The report, after comparing the last row with the head record (``None``: no head record)."""
        last = self._last
        if head is None:
            if last is not None:
                self._problem(f"the head record is missing but there are rows up to seq {last[0]} (deleted)")
        elif last is None:
            if head[0] != 0:
                self._problem(f"the head says seq {head[0]} but there are no rows (rows deleted)")
        elif head[0] > last[0]:
            self._problem(
                f"the head says seq {head[0]} but the last row is seq {last[0]} (rows deleted from the end)"
            )
        elif head[0] < last[0]:
            self._problem(
                f"the head says seq {head[0]} but the last row is seq {last[0]} (rows added behind the store)"
            )
        elif head[1] != last[1]:
            self._problem(f"the head hash does not match seq {last[0]}'s hash (head or last row edited)")
        problems = list(self._problems)
        if self._dropped:
            problems.append(f"... and {self._dropped} more problems")
        return ChainReport(ok=not problems, checked=self._checked, problems=tuple(problems), head=head)


def verify_chain(rows: Iterable[Mapping[str, Any]], head: tuple[int, str] | None) -> ChainReport:
    """Verify ``rows`` (in seq order, with ``hash``) against the ``head`` record (``None``: missing)."""
    verifier = ChainVerifier()
    for row in rows:
        verifier.feed(row)
    return verifier.finish(head)
