"""LLM attempts in the audit trail (I/O: the store).

Every call of the LLM drafter leaves one ``llm`` row: the sha256 of the reply (never its text), what
became of it (``replied`` and used, ``rejected`` with the reason, ``unavailable``), the requests and
seconds it took. So a finding that the rules drafter then healed automatically still shows what the
model said and why it was not used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from driftctl.audit.store import Store
    from driftctl.draft.llm import LlmAttempt


def record_llm_attempts(
    store: Store, run_id: str, workspace: str, attempts: Iterable[LlmAttempt]
) -> list[int]:
    """One chained ``llm`` row per attempt, its status the outcome; the seqs written."""
    return [
        store.append(
            "llm", run_id=run_id, status=a.outcome, data=a.to_json(), workspace=workspace, subject=a.address
        ).seq
        for a in attempts
    ]
