"""The stored shape of a proposal: its own versioned schema, independent of any renderer (no I/O).

A proposal row's ``data`` holds one :class:`StoredProposal` as JSON. ``schema_version`` says which
shape; a reader refuses a version it does not know rather than guess. The record keeps what acting
on the proposal needs — the finding, the strategy, the edits as whole texts (written back with the
same "the file has not changed since" check as verification) and the verification's pinned plan
hash — and what a human reads. Values were masked at parse time: no secret is stored.
"""

from __future__ import annotations

from typing import Any

import msgspec

from driftctl.errors import ConfigError
from driftctl.models import (
    AttributeChange,
    ChangeKind,
    Draft,
    FileEdit,
    Finding,
    FindingKind,
    Proposal,
    ResourceAddress,
    Severity,
    Strategy,
    Verification,
)

SCHEMA_VERSION = 1


class StoredChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    path: str
    kind: str
    before: Any = None
    after: Any = None
    sensitive: bool = False


class StoredFinding(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    address: str
    kind: str
    severity: str = "info"
    severity_rule: str = "default"
    changes: tuple[StoredChange, ...] = ()
    type: str = ""
    name: str = ""
    module: str | None = None
    index: str | int | None = None


class StoredEdit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    path: str  # relative to the workspace root (the directory holding the workspace and its modules)
    before: str
    after: str


class StoredVerification(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    ok: bool
    reason: str
    changes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    plan_sha256: str | None = None
    attempts: int = 1


class StoredDecision(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: str
    reasons: tuple[str, ...] = ()


class StoredProposal(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    schema_version: int = SCHEMA_VERSION
    finding: StoredFinding
    strategy: str
    drafter: str
    rationale: str = ""
    draft_confidence: float = 0.0
    notes: tuple[str, ...] = ()
    needs_human: str | None = None
    draft_audit: tuple[tuple[str, str], ...] = ()  # e.g. the LLM prompt's sha256, token counts
    edits: tuple[StoredEdit, ...] = ()
    verification: StoredVerification | None = None
    risk: float | None = None
    confidence: float | None = None
    denies: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    assessment_reasons: tuple[str, ...] = ()  # the reasons behind risk and confidence, in words
    decision: StoredDecision | None = None

    @property
    def diff(self) -> str:
        """The edits as one unified diff (``a/PATH`` → ``b/PATH``), for a human to read."""
        return "".join(e.diff() for e in to_edits(self))


def stored_finding(f: Finding) -> StoredFinding:
    r = f.resource
    return StoredFinding(
        address=f.address,
        kind=f.kind.value,
        severity=f.severity.value,
        severity_rule=f.severity_rule,
        changes=tuple(
            StoredChange(
                path=c.path, kind=c.kind.value, before=c.before, after=c.after, sensitive=c.sensitive
            )
            for c in f.changes
        ),
        type=r.type,
        name=r.name,
        module=r.module,
        index=r.index,
    )


def to_record(p: Proposal) -> StoredProposal:
    d, v, a = p.draft, p.verification, p.assessment
    return StoredProposal(
        finding=stored_finding(p.finding),
        strategy=d.strategy.value,
        drafter=d.drafter,
        rationale=d.rationale,
        draft_confidence=d.confidence,
        notes=d.notes,
        needs_human=d.needs_human,
        draft_audit=d.audit,
        edits=tuple(StoredEdit(path=e.path, before=e.before, after=e.after) for e in d.edits),
        verification=None
        if v is None
        else StoredVerification(
            ok=v.ok, reason=v.reason, changes=v.changes, plan_sha256=v.plan_sha256, attempts=v.attempts
        ),
        risk=a.risk if a is not None else None,
        confidence=a.confidence if a is not None else None,
        denies=a.denies if a is not None else (),
        warnings=a.warnings if a is not None else (),
        assessment_reasons=tuple(r.message for r in a.reasons) if a is not None else (),
        decision=None
        if p.decision is None
        else StoredDecision(kind=p.decision.kind.value, reasons=p.decision.reasons),
    )


def encode(record: StoredProposal) -> str:
    return msgspec.json.encode(record).decode()


def decode(text: str, proposal_id: str = "?") -> StoredProposal:
    """The record in a proposal row; a ConfigError naming the proposal when it is not one we can read."""
    try:
        raw = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"proposal {proposal_id}: its stored record is not JSON: {exc}") from None
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if version != SCHEMA_VERSION:
        found = "no schema_version (saved by an older driftctl)" if version is None else f"version {version}"
        raise ConfigError(
            f"proposal {proposal_id}: its stored record has {found}; "
            f"this driftctl reads version {SCHEMA_VERSION}",
            hint="reject it and let the next reconcile propose the fix again",
        )
    try:
        return msgspec.convert(raw, StoredProposal)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"proposal {proposal_id}: stored record is malformed: {exc}") from None


def to_finding(s: StoredFinding) -> Finding:
    return Finding(
        ResourceAddress(s.address, s.type, s.name, s.module, s.index),
        FindingKind(s.kind),
        tuple(AttributeChange(c.path, ChangeKind(c.kind), c.before, c.after, c.sensitive) for c in s.changes),
        Severity(s.severity),
        s.severity_rule,
    )


def to_edits(record: StoredProposal) -> tuple[FileEdit, ...]:
    return tuple(FileEdit(e.path, e.before, e.after) for e in record.edits)


def to_proposal(record: StoredProposal) -> Proposal:
    """The proposal as it was decided (assessment reasons are kept in the audit trail, not here)."""
    v = record.verification
    draft = Draft(
        record.finding.address,
        Strategy(record.strategy),
        record.drafter,
        to_edits(record),
        record.rationale,
        record.draft_confidence,
        notes=record.notes,
        needs_human=record.needs_human,
        audit=record.draft_audit,
    )
    verification = None if v is None else Verification(v.ok, v.reason, v.changes, v.plan_sha256, v.attempts)
    return Proposal(to_finding(record.finding), draft, verification)
