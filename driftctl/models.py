"""Domain objects shared by every stage: findings, changes, reports (no I/O).

Frozen dataclasses; changed through ``dataclasses.replace``. Values inside them are already masked:
a sensitive value is the string ``SENSITIVE`` and an unknown one is ``UNKNOWN`` — the raw values never
leave the plan parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from driftctl.errors import EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR

SENSITIVE = "(sensitive value)"
UNKNOWN = "(known after apply)"
HIDDEN_CHANGE_NOTE = "the value changed"  # a sensitive value changed; both sides read SENSITIVE


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; for sorting and thresholds."""
        return {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}[self.value]


class FindingKind(StrEnum):
    CHANGED = "changed"  # the object exists and some attributes differ from state
    DELETED = "deleted"  # the object is gone from the cloud


class ChangeKind(StrEnum):
    MODIFIED = "modified"  # a value changed in place
    ADDED = "added"  # present in reality, absent in state (a new tag, a new set element)
    REMOVED = "removed"  # present in state, absent in reality


class WorkspaceStatus(StrEnum):
    CLEAN = "clean"
    DRIFT = "drift"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class AttributeChange:
    """One attribute path that differs. ``before`` is the last applied state, ``after`` reality."""

    path: str  # e.g. "tags.owner", "ingress[0].cidr_blocks[1]", "ingress" (a whole set element)
    kind: ChangeKind
    before: Any = None
    after: Any = None
    sensitive: bool = False

    @property
    def note(self) -> str | None:
        """Words for what the values cannot show: a masked value that changed reads the same on both
        sides (``(sensitive value)``), so it says ``the value changed``."""
        if self.kind is ChangeKind.MODIFIED and self.before == self.after:
            return HIDDEN_CHANGE_NOTE
        return None


@dataclass(frozen=True, slots=True)
class ResourceAddress:
    """An exact Terraform address and its parts."""

    address: str  # module.app.aws_instance.web["blue"]
    type: str
    name: str
    module: str | None = None  # module.app (None at the root)
    index: str | int | None = None  # "blue", 0, or None

    @property
    def mode_prefix(self) -> str:
        return self.address.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class LedgerNote:
    """What the drift ledger remembers about a finding (times ISO 8601 UTC).

    ``absorbed_at`` is set when an apply wrote this drift into state, so no plan shows it any more;
    the ledger carries it until reality matches the reviewed code again. ``flapping`` is the evidence
    when the address keeps drifting back after heals.
    """

    first_seen: str
    times_seen: int = 1
    absorbed_at: str | None = None
    absorbed_by: str | None = None  # the run whose apply wrote it into state; None: unknown
    flapping: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A resource that changed outside Terraform."""

    resource: ResourceAddress
    kind: FindingKind
    changes: tuple[AttributeChange, ...]
    severity: Severity = Severity.INFO
    severity_rule: str = "default"  # the id of the rule that set the severity
    provider: str = ""
    ledger: LedgerNote | None = None  # None: detection without the ledger (e.g. a plan file)

    @property
    def address(self) -> str:
        return self.resource.address


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A change the *code* wants (not caused by drift): reported apart, never as drift."""

    resource: ResourceAddress
    actions: tuple[str, ...]  # terraform's actions, e.g. ("update",), ("create",), ("delete", "create")
    paths: tuple[str, ...] = ()  # attribute paths the code changes (updates only)

    @property
    def address(self) -> str:
        return self.resource.address


@dataclass(frozen=True, slots=True)
class IgnoredChange:
    """A drifted attribute an ignore rule silenced, and which rule did."""

    address: str
    path: str
    rule: str  # a description of the rule: "address-glob path-glob (owner: reason)"


@dataclass(frozen=True, slots=True)
class Alert:
    """A non-fatal problem worth a human's attention; never aborts the run."""

    kind: str  # e.g. "ignore-expired", "ignore-unmatched", "warning"
    message: str


@dataclass(frozen=True, slots=True)
class WorkspaceReport:
    workspace: str
    path: str | None = None
    findings: tuple[Finding, ...] = ()
    pending: tuple[PendingChange, ...] = ()
    ignored: tuple[IgnoredChange, ...] = ()
    alerts: tuple[Alert, ...] = ()
    error: str | None = None
    terraform_version: str | None = None
    duration_s: float = 0.0

    @property
    def status(self) -> WorkspaceStatus:
        if self.error is not None:
            return WorkspaceStatus.ERROR
        return WorkspaceStatus.DRIFT if self.findings else WorkspaceStatus.CLEAN


@dataclass(frozen=True, slots=True)
class DetectReport:
    workspaces: tuple[WorkspaceReport, ...]
    generated_at: str = ""  # ISO 8601, UTC
    driftctl_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """1 if any workspace errored (a failed run is never reported as clean), else 2 on drift, else 0."""
        statuses = {w.status for w in self.workspaces}
        if WorkspaceStatus.ERROR in statuses:
            return EXIT_ERROR
        return EXIT_DRIFT if WorkspaceStatus.DRIFT in statuses else EXIT_CLEAN

    @property
    def is_sync(self) -> bool:
        return self.exit_code == EXIT_CLEAN


# -- drafting and verification (issue 4) --------------------------------------------------------------


class Strategy(StrEnum):
    REVERT = "revert"  # apply the code again, targeted: reality goes back to what the code says
    ADOPT = "adopt"  # edit the code so it matches reality


@dataclass(frozen=True, slots=True)
class FileEdit:
    """A whole-file edit: ``path`` relative to the edit root (the directory holding the workspace and
    its local modules), the text before and after."""

    path: str
    before: str
    after: str

    def diff(self) -> str:
        """A unified diff, ``a/PATH`` → ``b/PATH``."""
        import difflib

        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """A drafter's unverified fix for one finding. ``needs_human`` is set when it will not draft one."""

    address: str
    strategy: Strategy
    drafter: str  # "rules" | "llm"
    edits: tuple[FileEdit, ...] = ()  # empty for a revert
    rationale: str = ""
    confidence: float = 0.0  # [0, 1]
    notes: tuple[str, ...] = ()  # e.g. "the LLM endpoint failed (timeout); the rules drafter took over"
    needs_human: str | None = None
    audit: tuple[tuple[str, str], ...] = ()  # e.g. (("prompt_sha256", "…"), ("completion_tokens", "212"))


@dataclass(frozen=True, slots=True)
class VerifiedFix:
    """The saved plan verification checked, handed as is to the assessment and the apply step.

    ``sha256`` pins the plan file's bytes (an apply refuses any other); ``changes`` is the plan's own
    summary, (address, actions); ``plan`` its ``terraform show -json`` document.
    """

    plan_file: Path
    sha256: str
    changes: tuple[tuple[str, tuple[str, ...]], ...]
    plan: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Verification:
    """What re-planning the fix in a scratch copy showed."""

    ok: bool
    reason: str  # why it was accepted or rejected, in a sentence
    changes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (address, actions) the fix's plan would take
    plan_sha256: str | None = None
    attempts: int = 1
    formatted: tuple[tuple[str, str], ...] = ()  # (path, text) of edited files after `terraform fmt`
    fix: VerifiedFix | None = None  # the verified plan, when ``ok`` (a revert applies exactly it)


@dataclass(frozen=True, slots=True)
class Proposal:
    finding: Finding
    draft: Draft
    verification: Verification | None = None
    assessment: Assessment | None = None
    decision: Decision | None = None

    @property
    def accepted(self) -> bool:
        return self.draft.needs_human is None and self.verification is not None and self.verification.ok


# -- assessment and decision (issue 5) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """One contribution to a risk or confidence figure, in words and numbers."""

    source: str  # "blast" | "checkov" | "rego" | "verification" | "drafter"
    message: str
    risk: float = 0.0  # what this reason added to risk
    confidence: float = 0.0  # what it added to (negative: took from) confidence


@dataclass(frozen=True, slots=True)
class Assessment:
    risk: float  # [0, 1]
    confidence: float  # [0, 1]
    reasons: tuple[Reason, ...] = ()
    denies: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class DecisionKind(StrEnum):
    BLOCK = "block"
    AUTO_APPLY = "auto_apply"
    PROPOSE = "propose"


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    reasons: tuple[str, ...]
