"""Proposals, breakers and workspace locks: the mutable records beside the audit trail (I/O: the database).

A mixin of ``Store`` (``driftctl.audit.store``): it uses only the store's public transaction API
(``reading``, ``writing``, ``append_in``), so every proposal state change is chained in the same
transaction as the change.
"""

from __future__ import annotations

import json
import secrets
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from driftctl.audit.chain import canonical
from driftctl.audit.proposals import ProposalIntegrityError, is_state_entry, state_data
from driftctl.audit.tables import (
    OPEN_PROPOSAL_STATUSES,
    AuditRow,
    BreakerRow,
    LockRow,
    ProposalRow,
    utc_now,
)
from driftctl.errors import DriftctlError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from driftctl.audit.store import Entry


class StoreError(DriftctlError):
    """The audit database cannot be opened, or cannot do what was asked (names the redacted URL)."""


def decode_data(text: str) -> dict[str, Any]:
    # A tampered row may hold anything; show it rather than fail to list the trail.
    try:
        value = json.loads(text)
    except ValueError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": value}


class RecordStore:
    """Proposals (each state change chained), per-workspace breakers, and database workspace locks."""

    # Provided by Store.
    def reading(self, doing: str) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def writing(self, doing: str) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def append_in(
        self,
        s: Session,
        kind: str,
        run_id: str,
        status: str,
        data: Mapping[str, Any],
        workspace: str | None,
        subject: str | None,
    ) -> Entry:
        raise NotImplementedError

    # -- proposals ---------------------------------------------------------------------------------

    @staticmethod
    def new_proposal_id() -> str:
        """A fresh proposal id: 12 random hex characters."""
        return secrets.token_hex(6)

    def save_proposal(self, row: ProposalRow) -> ProposalRow:
        """Insert ``row``, or replace the proposal with its id; its state and digest are chained."""
        with self.writing(f"save proposal {row.id}") as s:
            saved = s.merge(row)
            self._chain_state(s, saved)
        return saved

    def _chain_state(self, s: Session, row: ProposalRow) -> None:
        chained = self._chained_digest(s, row)
        data = state_data(row, chained)
        if "content_mismatch" in data and row.status == "approved":
            raise ProposalIntegrityError(
                f"proposal {row.id}: its content (diff / plan sha256) does not match the digest chained "
                "when it was drafted (edited behind the store); it cannot be approved",
                hint="re-run `driftctl reconcile` to draft a fresh proposal",
            )
        self.append_in(s, "proposal", row.run_id, row.status, data, row.workspace, row.address)

    @staticmethod
    def _chained_digest(s: Session, row: ProposalRow) -> str | None:
        """The digest chained for ``row`` by its latest state row, if it has one."""
        needle = canonical({"proposal": row.id}).decode("utf-8")[1:-1]  # "proposal":"<id>"
        stmt = (
            sm_select(AuditRow.data)
            .where(
                col(AuditRow.kind) == "proposal",
                col(AuditRow.workspace) == row.workspace,
                col(AuditRow.data).contains(needle, autoescape=True),
            )
            .order_by(col(AuditRow.seq).desc())
        )
        for text_ in s.exec(stmt):
            data = decode_data(text_)
            if is_state_entry(data) and data["proposal"] == row.id:
                return str(data["digest"])
        return None

    def proposal(self, id_or_prefix: str) -> ProposalRow:
        """The proposal with this id, or the only one starting with this prefix (4+ characters)."""
        key = id_or_prefix.strip().lower()
        with self.reading("read proposals") as s:
            exact = s.get(ProposalRow, key)
            if exact is not None:
                return exact
            if len(key) < 4:
                raise StoreError(f"no proposal {key}", hint="give the id, or a prefix of 4+ characters")
            stmt = sm_select(ProposalRow).where(col(ProposalRow.id).startswith(key, autoescape=True))
            found = list(s.exec(stmt.order_by(col(ProposalRow.id)).limit(11)))
        if not found:
            raise StoreError(f"no proposal {key}", hint="`driftctl proposals` lists them")
        if len(found) > 1:
            names = ", ".join(p.id for p in found[:10]) + (", …" if len(found) > 10 else "")
            raise StoreError(f"proposal prefix {key} is ambiguous: {names}", hint="give more characters")
        return found[0]

    def proposals(self, *, status: str | None = None, workspace: str | None = None) -> list[ProposalRow]:
        """Proposals, newest first, optionally only those with ``status`` / in ``workspace``."""
        stmt = sm_select(ProposalRow)
        if status is not None:
            stmt = stmt.where(col(ProposalRow.status) == status)
        if workspace is not None:
            stmt = stmt.where(col(ProposalRow.workspace) == workspace)
        stmt = stmt.order_by(col(ProposalRow.created_at).desc(), col(ProposalRow.id))
        with self.reading("read proposals") as s:
            return list(s.exec(stmt))

    def update_proposal(self, proposal_id: str, **fields: Any) -> ProposalRow:
        """Set ``fields`` on the proposal (and ``updated_at``); unknown field names are a bug."""
        row = self._update_proposal(proposal_id, None, fields)
        assert row is not None  # no expected status: always written
        return row

    def update_proposal_if(self, proposal_id: str, expected: str, **fields: Any) -> ProposalRow | None:
        """``update_proposal`` only while the proposal's status is still ``expected`` (checked and set
        in one transaction, under the row lock); None, and nothing written, when someone changed it."""
        return self._update_proposal(proposal_id, expected, fields)

    def _update_proposal(
        self, proposal_id: str, expected: str | None, fields: dict[str, Any]
    ) -> ProposalRow | None:
        unknown = sorted(set(fields) - set(ProposalRow.model_fields) | ({"id"} & set(fields)))
        if unknown:
            raise TypeError(f"ProposalRow has no updatable field(s) {', '.join(unknown)}")
        with self.writing(f"update proposal {proposal_id}") as s:
            row = s.get(ProposalRow, proposal_id, with_for_update=True)
            if row is None:
                raise StoreError(f"no proposal {proposal_id}")
            if expected is not None and row.status != expected:
                return None
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utc_now()
            s.add(row)
            self._chain_state(s, row)
        return row

    def open_proposals(self, workspace: str, address: str) -> list[ProposalRow]:
        """Proposals for ``address`` still waiting on someone (pending, approved, needs_human, blocked)."""
        stmt = sm_select(ProposalRow).where(
            col(ProposalRow.workspace) == workspace,
            col(ProposalRow.address) == address,
            col(ProposalRow.status).in_(OPEN_PROPOSAL_STATUSES),
        )
        with self.reading("read proposals") as s:
            return list(s.exec(stmt.order_by(col(ProposalRow.created_at).desc(), col(ProposalRow.id))))

    # -- circuit breakers --------------------------------------------------------------------------

    def breaker(self, workspace: str) -> BreakerRow:
        """The breaker of ``workspace`` (a closed one with no failures if never recorded)."""
        with self.reading("read breakers") as s:
            row = s.get(BreakerRow, workspace)
        return row if row is not None else BreakerRow(workspace=workspace)

    def record_heal(
        self, workspace: str, ok: bool, threshold: int, *, reason: str | None = None
    ) -> BreakerRow:
        """Count a heal: success zeroes the failures; the ``threshold``-th failure in a row opens it.

        A success does not close an open breaker: that is ``reset_breaker``, a human's decision.
        """
        for attempt in (1, 2):  # two first-ever records may race to insert the row
            try:
                with self.writing(f"record a heal for {workspace}") as s:
                    row = s.get(BreakerRow, workspace, with_for_update=True)
                    row = row if row is not None else BreakerRow(workspace=workspace)
                    now = utc_now()
                    if ok:
                        row.failures = 0
                    else:
                        row.failures += 1
                        if row.failures >= threshold and not row.open:
                            row.open, row.opened_at = True, now
                            row.reason = f"{row.failures} failed heals in a row (threshold {threshold})" + (
                                f"; last: {reason}" if reason else ""
                            )
                    row.updated_at = now
                    s.add(row)
                return row
            except StoreError as exc:
                if attempt == 2 or not isinstance(exc.__cause__, IntegrityError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def reset_breaker(self, workspace: str) -> BreakerRow:
        """Close the breaker of ``workspace`` and forget its failures."""
        with self.writing(f"reset the breaker of {workspace}") as s:
            row = s.get(BreakerRow, workspace, with_for_update=True)
            if row is None:
                return BreakerRow(workspace=workspace)
            row.failures, row.open, row.opened_at, row.reason = 0, False, None, None
            row.updated_at = utc_now()
            s.add(row)
        return row

    def breakers(self) -> list[BreakerRow]:
        """Every recorded breaker, by workspace."""
        with self.reading("read breakers") as s:
            return list(s.exec(sm_select(BreakerRow).order_by(col(BreakerRow.workspace))))

    # -- workspace locks ---------------------------------------------------------------------------

    def try_lock(self, workspace: str, holder: str, ttl_s: float) -> bool:
        """Take, refresh (same holder) or take over (expired) the lock on ``workspace``; False if held."""
        try:
            with self.writing(f"lock {workspace}") as s:
                now = time.time()
                row = s.get(LockRow, workspace, with_for_update=True)
                if row is None:
                    expires = now + ttl_s
                    s.add(LockRow(workspace=workspace, holder=holder, acquired_at=now, expires_at=expires))
                    return True
                if row.holder != holder and row.expires_at > now:
                    return False
                if row.holder != holder:
                    row.holder, row.acquired_at = holder, now
                row.expires_at = now + ttl_s
                s.add(row)
                return True
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):  # another process inserted the lock first
                return False
            raise

    def unlock(self, workspace: str, holder: str) -> bool:
        """Release ``workspace`` if ``holder`` holds it; whether it did. A missing lock is not an error."""
        with self.writing(f"unlock {workspace}") as s:
            row = s.get(LockRow, workspace, with_for_update=True)
            if row is None or row.holder != holder:
                return False
            s.delete(row)
        return True

    def lock_holder(self, workspace: str) -> LockRow | None:
        """The lock on ``workspace`` as stored (it may have expired: compare ``expires_at``)."""
        with self.reading("read locks") as s:
            return s.get(LockRow, workspace)
