"""The audit chain: canonical JSON, keyed entry MACs and chain verification (pure, no I/O).

Each audit row stores ``hash = HMAC-SHA256(key, prev_hash + "\\n" + canonical(fields))`` where
``fields`` are all of the row's columns except ``hash`` (``key_id`` included) and ``prev_hash`` is the
previous row's hash (``GENESIS`` for seq 1). The key lives outside the database (see ``keys``), so
someone who can write the database but not read the key can neither edit a row, nor re-hash the rows
after an edit, nor append a row. A head record keeps the last seq and hash with its own MAC, so
cutting rows from the end and moving the head back shows too, unless the attacker kept an old head;
an anchor written outside the store (``anchor``) closes that: ``verify --anchor`` proves no row up
to the anchored seq was removed or rewritten.

Rows written before the chain was keyed have no ``key_id`` and a plain sha256 hash; they are
accepted only as a prefix of the chain (the first keyed row's MAC pins them), never after a keyed row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

GENESIS = "0" * 64
LEGACY_FIELDS = ("seq", "ts", "run_id", "workspace", "kind", "subject", "status", "data", "prev_hash")
HASHED_FIELDS = (*LEGACY_FIELDS, "key_id")
MAX_PROBLEMS = 200  # a bulk edit would otherwise list every row; the first ones locate it


def canonical(obj: Any) -> bytes:
    """``obj`` as canonical JSON bytes: sorted keys, no spaces, UTF-8, non-JSON values as ``str``."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode(
        "utf-8"
    )


class KeyLookup(Protocol):
    """Where the verifier finds a key by id (``keys.Keyring``)."""

    source: str

    def get(self, kid: str) -> bytes | None: ...


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The unkeyed (legacy) hex sha256 of one entry: its predecessor's hash, a newline, its fields."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(dict(fields))).hexdigest()


def entry_mac(key: bytes, prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The HMAC-SHA256 of one entry under ``key``: predecessor's hash, a newline, canonical fields."""
    return hmac.new(key, prev_hash.encode() + b"\n" + canonical(dict(fields)), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, last_hash: str) -> str:
    """The MAC of a head record (or an anchor) naming ``seq`` and its row's hash."""
    return hmac.new(key, f"driftctl audit head\n{seq}\n{last_hash}".encode(), hashlib.sha256).hexdigest()


def hashed_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``row`` that its hash covers; ``data`` as stored text (or canonicalised if not text)."""
    names = HASHED_FIELDS if row.get("key_id") is not None else LEGACY_FIELDS
    fields = {name: row.get(name) for name in names}
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

    def __init__(self, keys: KeyLookup) -> None:
        self._keys = keys
        self._keyed = 0  # keyed rows seen so far: an unkeyed row after one is forged
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
        kid = row.get("key_id")
        if kid is None:
            if self._keyed:
                self._problem(f"seq {seq}: an unkeyed row after keyed rows (forged behind the store)")
            elif entry_hash(prev_hash, hashed_fields(row)) != stored:
                self._problem(f"seq {seq}: hash does not match its contents (edited)")
        else:
            self._keyed += 1
            key = self._keys.get(str(kid))
            if key is None:
                self._problem(
                    f"seq {seq}: signed with audit key {kid}, which {self._keys.source} does not hold"
                )
            elif not hmac.compare_digest(entry_mac(key, prev_hash, hashed_fields(row)), stored):
                self._problem(
                    f"seq {seq}: MAC does not match its contents (edited, or forged without the key)"
                )
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

    def finish(
        self, head: tuple[int, str] | None, signature: tuple[str | None, str | None] | None = None
    ) -> ChainReport:
        """The report, after comparing the last row with the head record (``None``: no head record)
        and checking the head's ``signature`` (key id, MAC; both ``None`` for an unsigned head;
        ``signature=None``: not checked, e.g. a head taken from an export's last row)."""
        last = self._last
        if head is not None and signature is not None:
            self._check_head(head, signature)
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

    def _check_head(self, head: tuple[int, str], signature: tuple[str | None, str | None]) -> None:
        kid, stored = signature
        if kid is None or stored is None:
            if self._keyed:
                self._problem(
                    f"the head record (seq {head[0]}) is unsigned but the rows are keyed (head moved by hand)"
                )
            return
        key = self._keys.get(kid)
        if key is None:
            self._problem(
                f"the head record is signed with audit key {kid}, which {self._keys.source} does not hold"
            )
        elif not hmac.compare_digest(head_mac(key, head[0], head[1]), stored):
            self._problem(
                f"the head record (seq {head[0]}) has a MAC that does not match it (head moved by hand, "
                "e.g. after rows were cut from the end)"
            )


def verify_chain(
    rows: Iterable[Mapping[str, Any]],
    head: tuple[int, str] | None,
    keys: KeyLookup,
    signature: tuple[str | None, str | None] | None = None,
) -> ChainReport:
    """Verify ``rows`` (in seq order, with ``hash``) against the ``head`` record (``None``: missing)."""
    verifier = ChainVerifier(keys)
    for row in rows:
        verifier.feed(row)
    return verifier.finish(head, signature)
