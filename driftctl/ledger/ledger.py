"""The drift ledger as detection uses it: merge each plan with the open items, flag flapping (I/O: database).

``DriftLedger`` is what ``detect`` and ``reconcile`` hand their plans to (``Policy.ledger``): findings
the plan no longer shows but reality still has come back as ledger-carried findings, flapping
addresses carry their evidence, and every flag and unflag is an audit row.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from driftctl.ledger.flapping import Flapping, FlapRule, flapping, window_text
from driftctl.ledger.model import ItemStatus, LedgerItem, PlanView, merge
from driftctl.ledger.store import LedgerStore
from driftctl.terraform.plan import prior_values

if TYPE_CHECKING:
    from driftctl.audit.store import Store
    from driftctl.detect.engine import Target
    from driftctl.models import Finding, PendingChange
    from driftctl.terraform.plan import Plan

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return secrets.token_hex(8)


class DriftLedger:
    """Keeps every finding open until it is healed, adopted, accepted/ignored by a human, or gone."""

    def __init__(
        self, store: Store, *, run_id: str, clock: Clock = _utc_now, new_id: Callable[[], str] = _new_id
    ) -> None:
        self.store = store
        self.items = LedgerStore(store)
        self.run_id = run_id
        self.clock = clock
        self.new_id = new_id

    def for_run(self, run_id: str) -> DriftLedger:
        """The same ledger, its audit rows under another run id (a runtime's ``new_run``)."""
        other = DriftLedger(self.store, run_id=run_id, clock=self.clock, new_id=self.new_id)
        other.items = self.items
        return other

    def merge(
        self,
        target: Target,
        plan: Plan,
        findings: Sequence[Finding],
        pending: Sequence[PendingChange],
        *,
        record: bool = True,
    ) -> tuple[list[Finding], list[PendingChange]]:
        """The plan's findings and pending changes merged with the ledger; the ledger updated unless
        ``record`` is false (a dry run reads the ledger and writes nothing, not even flapping rows)."""
        now = self.clock()
        open_items = self.items.open_items(target.name)
        view = PlanView(
            findings=tuple(findings),
            pending=tuple(pending),
            planned={c.resource.address: c for c in plan.changes},
            prior=prior_values(plan, {i.address for i in open_items}),
        )
        merged = merge(
            target.name,
            view,
            open_items,
            now=now,
            new_id=iter(self.new_id, ""),
            last_apply=self.items.last_apply(target.name),
        )
        rule = FlapRule(timedelta(seconds=target.flapping_window_s), target.flapping_heals)
        items, flaps = self._flapping(target.name, merged.items, rule, now, record=record)
        if record:
            self.items.save(items)
        out = [
            replace(f, ledger=replace(f.ledger, flapping=flaps[f.address].text))
            if f.address in flaps and f.ledger is not None
            else f
            for f in merged.findings
        ]
        return out, list(merged.pending)

    def healed(self, workspace: str, address: str, run_id: str) -> None:
        """A revert of ``address`` was applied and a fresh plan confirmed the drift gone."""
        history = self.items.history(workspace, address)
        if not history or history[-1].status not in (ItemStatus.OPEN, ItemStatus.GONE):
            return
        item = history[-1].closed(
            ItemStatus.HEALED, self.clock(), run_id, "reverted, and confirmed by a plan"
        )
        item = self._unflag(item, "healed")
        self.items.save([item])

    def adopted(self, workspace: str, address: str, by: str) -> LedgerItem | None:
        """The code now matches reality and was applied: the open item of ``address`` closes as adopted."""
        found = [i for i in self.items.open_items(workspace) if i.address == address]
        if not found:
            return None
        item = self._unflag(
            found[0].closed(ItemStatus.ADOPTED, self.clock(), by, "the code now matches"), "adopted"
        )
        self.items.save([item])
        return item

    def reopen(self, closed: LedgerItem) -> None:
        """The adopt edit was rolled back: the item is open again."""
        self.items.save(
            [replace(closed, status=ItemStatus.OPEN, closed_at=None, closed_by=None, reason=None)]
        )

    def close(self, workspace: str, address: str, status: ItemStatus, by: str, reason: str) -> LedgerItem:
        """A named human accepts, ignores or adopts an open item; ``LookupError`` if there is none."""
        if status not in (ItemStatus.ACCEPTED, ItemStatus.IGNORED, ItemStatus.ADOPTED):
            raise ValueError(f"a human closes an item as accepted, ignored or adopted, not {status.value}")
        found = [i for i in self.items.open_items(workspace) if i.address == address]
        if not found:
            raise LookupError(f"no open drift for {address} in workspace {workspace}")
        item = self._unflag(found[0].closed(status, self.clock(), by, reason), status.value)
        self.items.save([item])
        self._audit(item, status.value, {"address": address, "by": by, "reason": reason})
        return item

    # -- flapping ------------------------------------------------------------------------------

    def _flapping(
        self, workspace: str, items: Sequence[LedgerItem], rule: FlapRule, now: datetime, *, record: bool
    ) -> tuple[list[LedgerItem], dict[str, Flapping]]:
        open_addresses = [i.address for i in items if i.is_open]
        healed = self.items.healed_since(workspace, open_addresses, now - rule.window)
        out: list[LedgerItem] = []
        flaps: dict[str, Flapping] = {}
        for item in items:
            flap = flapping(item, [h for h in healed if h.address == item.address], rule, now)
            if flap is not None:
                flaps[item.address] = flap
                if item.flapping_since is None and record:
                    item = replace(item, flapping_since=now)
                    self._audit(
                        item,
                        "flapping",
                        {**flap.to_json(), "window": window_text(rule.window), "threshold": rule.heals},
                    )
            elif item.flapping_since is not None and record:
                why = (
                    "closed as " + item.status.value if not item.is_open else "fewer heals within the window"
                )
                item = self._unflag(item, why)
            out.append(item)
        return out, flaps

    def _unflag(self, item: LedgerItem, why: str) -> LedgerItem:
        if item.flapping_since is None:
            return item
        self._audit(item, "unflapped", {"address": item.address, "reason": why})
        return replace(item, flapping_since=None)

    def _audit(self, item: LedgerItem, status: str, data: dict[str, object]) -> None:
        self.store.append(
            "ledger",
            run_id=self.run_id,
            status=status,
            data=data,
            workspace=item.workspace,
            subject=item.address,
        )
