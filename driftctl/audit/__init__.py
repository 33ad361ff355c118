"""The audit store: hash-chained audit trail, proposals, breakers and workspace locks (I/O: the database).

``chain`` is the pure hashing and verification; ``tables`` the stored shapes; ``store`` the one class
that talks to the database (the ``driftctl audit`` commands live in ``driftctl.cli.audit``).
"""

from driftctl.audit.chain import GENESIS, ChainReport, canonical, entry_hash, verify_chain
from driftctl.audit.store import Entry, Store, StoreError, default_database_path
from driftctl.audit.tables import AuditHead, AuditRow, BreakerRow, LockRow, ProposalRow

__all__ = [
    "GENESIS",
    "AuditHead",
    "AuditRow",
    "BreakerRow",
    "ChainReport",
    "Entry",
    "LockRow",
    "ProposalRow",
    "Store",
    "StoreError",
    "canonical",
    "default_database_path",
    "entry_hash",
    "verify_chain",
]
