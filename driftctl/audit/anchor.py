"""Anchors: the chain's head written outside the store, to prove later that no row was removed (I/O:
an anchor file, or git).

The head record and the keyed chain catch edits, forged rows and a head moved by hand, but someone who
kept an old (signed) head can still cut rows from the end and put that head back. An anchor closes
it: ``driftctl audit anchor --to FILE`` appends ``{"seq", "hash", "key_id", "mac", "ts"}`` to a file
(one JSON object a line; keep it somewhere the database's writers cannot rewrite), ``--to refs/...``
commits it to a git ref (one commit per anchor, each on the previous). ``verify --anchor`` then
checks, for every anchor, that the row at its seq still exists with the anchored hash and that the
head is not behind it; with the chain intact up to that row, no row up to the anchor was removed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftctl.audit.chain import canonical
from driftctl.audit.tables import utc_now
from driftctl.errors import ConfigError, DriftctlError

if TYPE_CHECKING:
    from driftctl.audit.keys import Keyring
    from driftctl.audit.store import Store

ANCHOR_FILE_IN_REF = "anchor.json"
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "driftctl",
    "GIT_AUTHOR_EMAIL": "driftctl@localhost",
    "GIT_COMMITTER_NAME": "driftctl",
    "GIT_COMMITTER_EMAIL": "driftctl@localhost",
}


def anchor_mac(key: bytes, seq: int, last_hash: str) -> str:
    """The MAC of an anchor (a different message from the head's, so one is never usable as the other)."""
    return hmac.new(key, f"driftctl audit anchor\n{seq}\n{last_hash}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Anchor:
    """One anchored head: the seq, its row's hash, the key that signed it, and when."""

    seq: int
    hash: str
    key_id: str | None
    mac: str | None
    ts: str
    where: str = ""  # where it was read from, for messages

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "key_id": self.key_id, "mac": self.mac, "ts": self.ts}

    @classmethod
    def parse(cls, text: str, where: str) -> Anchor:
        try:
            doc = json.loads(text)
            seq, digest = doc["seq"], doc["hash"]
            if not isinstance(seq, int) or not isinstance(digest, str):
                raise TypeError("seq must be an integer and hash a string")
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{where} is not a driftctl audit anchor: {exc}") from exc
        return cls(seq, digest, doc.get("key_id"), doc.get("mac"), str(doc.get("ts", "")), where)


def current_anchor(store: Store) -> Anchor:
    """The store's head as an anchor, signed with the current key (a brand-new trail has none)."""
    report = store.verify_chain()
    if not report.ok:
        raise DriftctlError(
            f"refusing to anchor a broken audit chain: {report.problems[0]}",
            hint="`driftctl audit verify` lists every problem",
        )
    head = store.head()
    if head is None or head[0] == 0:
        raise DriftctlError("the audit trail is empty: nothing to anchor yet")
    kid, key = store.keyring.signing_key()
    return Anchor(head[0], head[1], kid, anchor_mac(key, head[0], head[1]), utc_now())


def is_git_ref(target: str) -> bool:
    return target.startswith("refs/")


def _git(repo: Path, *args: str, stdin: str | None = None) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env={**os.environ, **_GIT_IDENTITY},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DriftctlError(f"cannot run git in {repo}: {exc}") from exc
    if result.returncode != 0:
        raise DriftctlError(
            f"git {args[0]} in {repo} failed: {result.stderr.strip() or result.stdout.strip()}"
        )
    return result.stdout.strip()


def write_anchor(anchor: Anchor, target: str, repo: Path) -> str:
    """Append ``anchor`` to the file ``target``, or commit it to the git ref ``target`` in ``repo``."""
    line = canonical(anchor.to_json()).decode("utf-8")
    if not is_git_ref(target):
        path = Path(target)
        try:
            with path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            raise ConfigError(f"cannot write the anchor to {path}: {exc.strerror or exc}") from exc
        return f"appended the anchor (seq {anchor.seq}) to {path}"
    blob = _git(repo, "hash-object", "-w", "--stdin", stdin=line + "\n")
    tree = _git(repo, "mktree", stdin=f"100644 blob {blob}\t{ANCHOR_FILE_IN_REF}\n")
    try:
        parent: str | None = _git(repo, "rev-parse", "--verify", "--quiet", f"{target}^{{commit}}")
    except DriftctlError:
        parent = None
    commit = _git(
        repo,
        "commit-tree",
        tree,
        *(("-p", parent) if parent else ()),
        "-m",
        f"driftctl audit anchor: seq {anchor.seq} {anchor.hash[:12]}",
    )
    _git(repo, "update-ref", target, commit, *((parent,) if parent else ()))
    return f"committed the anchor (seq {anchor.seq}) to {target} in {repo} ({commit[:12]})"


def read_anchors(source: str, repo: Path) -> list[Anchor]:
    """Every anchor in the file ``source``, or the latest one on the git ref ``source``."""
    if is_git_ref(source):
        text = _git(repo, "show", f"{source}:{ANCHOR_FILE_IN_REF}")
        return [Anchor.parse(text, f"{source} in {repo}")]
    path = Path(source)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the anchor file {path}: {exc}") from exc
    anchors = [
        Anchor.parse(line, f"{path}:{number}") for number, line in enumerate(lines, start=1) if line.strip()
    ]
    if not anchors:
        raise ConfigError(f"the anchor file {path} holds no anchor")
    return anchors


def check_anchor(store: Store, anchor: Anchor, keyring: Keyring) -> list[str]:
    """Problems proving rows were removed or rewritten since ``anchor`` (empty: none)."""
    name = f"anchor {anchor.where} (seq {anchor.seq}, {anchor.ts or 'undated'})"
    problems = []
    key = keyring.get(anchor.key_id) if anchor.key_id else None
    if key is None:
        problems.append(
            f"{name}: signed with audit key {anchor.key_id}, which {keyring.source} does not hold"
        )
    elif anchor.mac is None or not hmac.compare_digest(anchor_mac(key, anchor.seq, anchor.hash), anchor.mac):
        problems.append(f"{name}: its MAC does not match (the anchor was edited)")
    head = store.head()
    entry = store.entry(anchor.seq)
    if entry is None:
        problems.append(f"{name}: row {anchor.seq} is gone (rows removed since the anchor)")
    elif entry.hash != anchor.hash:
        problems.append(
            f"{name}: row {anchor.seq}'s hash differs from the anchored one (chain rewritten since)"
        )
    if head is None or head[0] < anchor.seq:
        at = "missing" if head is None else f"at seq {head[0]}"
        problems.append(f"{name}: the head is {at}, behind the anchor (rows removed since the anchor)")
    return problems
