"""Does a scored plan still describe the world? State serial/lineage and a hash of the code (I/O).

Terraform itself refuses to apply a saved plan whose state serial moved; this check runs first so a
stale plan is re-planned and re-scored by driftctl, and so code edits (which Terraform does not
check) count too.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from driftctl.terraform import Terraform

_CODE_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".terraform.lock.hcl")
_SKIP_DIRS = {".terraform", ".git", ".driftctl"}


@dataclass(frozen=True, slots=True)
class Fingerprint:
    serial: int | None
    lineage: str | None
    code_sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(data.get("serial"), data.get("lineage"), str(data.get("code_sha256", "")))

    def changes_since(self, earlier: Fingerprint) -> list[str]:
        """What moved between ``earlier`` and this one, in words; empty when fresh."""
        moved = []
        if self.lineage != earlier.lineage:
            moved.append(f"state lineage {earlier.lineage} → {self.lineage}")
        elif self.serial != earlier.serial:
            moved.append(f"state serial {earlier.serial} → {self.serial}")
        if self.code_sha256 != earlier.code_sha256:
            moved.append("the Terraform code changed")
        return moved


def code_digest(root: Path) -> str:
    """sha256 over every Terraform code and variable file under ``root`` (paths and contents)."""
    digest = hashlib.sha256()
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.endswith(_CODE_SUFFIXES):
                path = Path(directory) / name
                digest.update(str(path.relative_to(root)).encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def fingerprint(tf: Terraform, code_root: Path) -> Fingerprint:
    state = tf.state_pull() or {}
    serial = state.get("serial")
    lineage = state.get("lineage")
    return Fingerprint(
        serial if isinstance(serial, int) else None,
        lineage if isinstance(lineage, str) else None,
        code_digest(code_root),
    )


Changes = tuple[tuple[str, tuple[str, ...]], ...]


def changes_differ(approved: Changes | None, replanned: Changes) -> str | None:
    """Why a re-planned fix is not the one a human approved (the (address, actions) it changes), or None
    when they match. A plan approved on one host and re-planned on another is applied only if None."""
    if approved is None:
        return None
    before = {(a, tuple(acts)) for a, acts in approved}
    after = {(a, tuple(acts)) for a, acts in replanned}
    if before == after:
        return None

    def words(items: set[tuple[str, tuple[str, ...]]]) -> str:
        return ", ".join(f"{'/'.join(acts)} {a}" for a, acts in sorted(items)) or "nothing"

    return f"the new plan changes {words(after)}; the approved one changed {words(before)}"
