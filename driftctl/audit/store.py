"""The audit store: a hash-chained audit trail, proposals, breakers and workspace locks (I/O: the database).

Any SQLAlchemy URL works; the default is a SQLite file. SQLite runs in WAL mode and every write
transaction starts with ``BEGIN IMMEDIATE`` so appends from several processes queue up instead of
interleaving; other databases lock the head row with ``SELECT ... FOR UPDATE``. Either way one
append is one transaction: read the head, insert the row, move the head. Rows are signed with the
audit key (``keys``), which never enters the database.

Every proposal write (``save_proposal``, ``update_proposal``) appends, in the same transaction, a
chained ``proposal`` row with the new status and the digest of the content that would be applied
(``proposals``), so a status or diff changed behind the store no longer matches the chain.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

from sqlalchemy import Connection, Table, create_engine, event, inspect, literal, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sm_select

from driftctl.audit.chain import GENESIS, ChainReport, ChainVerifier, canonical, entry_mac, head_mac
from driftctl.audit.keys import KEY_FILE_NAME, Keyring, configured_keyring, load_keyring
from driftctl.audit.proposals import check_proposals, is_state_entry
from driftctl.audit.readonly import read_only_url, sqlite_file, writable
from driftctl.audit.records import RecordStore, decode_data
from driftctl.audit.records import StoreError as StoreError  # re-exported: every caller imports it from here
from driftctl.audit.tables import (
    AUDIT_KINDS,
    AuditHead,
    AuditRow,
    BreakerRow,
    LockRow,
    ProposalRow,
    iso,
    utc_now,
)

DATABASE_URL_ENV = "DRIFTCTL_DATABASE_URL"
BUSY_TIMEOUT_S = 30
SCHEMA_LOCK_KEY = 0x6472696674  # "drift": serialises table creation on PostgreSQL
_WRITE = "driftctl_write"  # execution option: this transaction writes, so SQLite takes the lock up front
_NO_FILTER: Mapping[str, Any] = MappingProxyType({})
_TABLES = (AuditRow, AuditHead, ProposalRow, BreakerRow, LockRow)


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit entry as read back, with ``data`` decoded."""

    seq: int
    ts: str
    run_id: str
    workspace: str | None
    kind: str
    subject: str | None
    status: str
    data: dict[str, Any]
    prev_hash: str
    hash: str
    key_id: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Entry:
        return cls(
            seq=row["seq"],
            ts=row["ts"],
            run_id=row["run_id"],
            workspace=row["workspace"],
            kind=row["kind"],
            subject=row["subject"],
            status=row["status"],
            data=decode_data(row["data"]),
            prev_hash=row["prev_hash"],
            hash=row["hash"],
            key_id=row.get("key_id"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "run_id": self.run_id,
            "workspace": self.workspace,
            "kind": self.kind,
            "subject": self.subject,
            "status": self.status,
            "data": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
            "key_id": self.key_id,
        }


def default_database_path(config_path: Path | None) -> Path:
    """``<config dir>/.driftctl/driftctl.db`` with a config, else ``$XDG_DATA_HOME/driftctl/driftctl.db``."""
    if config_path is not None:
        return Path(os.path.abspath(config_path)).parent / ".driftctl" / "driftctl.db"
    xdg = os.environ.get("XDG_DATA_HOME", "")
    # The XDG spec says to ignore a relative path.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "driftctl" / "driftctl.db"


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _reason(exc: BaseException) -> str:
    # The driver's own message, first line only: SQLAlchemy appends the SQL and a docs link.
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def _on_sqlite_connect(dbapi_connection: Any, _record: Any, *, wal: bool = True) -> None:
    # The documented pysqlite recipe: stop the driver's own BEGIN so ``_on_sqlite_begin`` decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    if wal:
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _on_read_only_connect(dbapi_connection: Any, record: Any) -> None:
    _on_sqlite_connect(dbapi_connection, record, wal=False)


def _on_sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def _add_missing_columns(conn: Connection) -> None:
    """Columns added since a table was created (nullable text: old rows stay as they were)."""
    found = inspect(conn)
    for model in (AuditRow, AuditHead):
        table = _table(model)
        have = {c["name"] for c in found.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} VARCHAR"))


class Store(RecordStore):
    """The driftctl database: audit trail, proposals, breakers and locks."""

    def __init__(self, url: str, keyring: Keyring | None = None, *, read_only: bool = False) -> None:
        """``keyring``: the audit keys (default: ``audit.key`` next to a SQLite file, see
        ``_default_keyring``). ``read_only``: the caller only reads; a SQLite file driftctl cannot write
        is then opened read-only instead of failing (a writer gets a clear error before anything runs)."""
        self.url = url
        self._display_url = redact_url(url)
        file = sqlite_file(url)
        self.read_only = read_only and file is not None and file.is_file() and not writable(file)
        if file is not None and not read_only and file.exists() and not writable(file):
            raise StoreError(
                f"database {file} is read-only, and this command writes to it",
                hint="`driftctl audit verify`, `audit list`/`export` and `proposals` work on a read-only "
                "database; to reconcile or approve, make it (and its directory) writable or point "
                f"{DATABASE_URL_ENV} at a writable one",
            )
        try:
            self._sqlite = make_url(url).get_backend_name() == "sqlite"
            if self._sqlite:
                engine_url = read_only_url(file) if self.read_only and file is not None else url
                engine = create_engine(engine_url, connect_args={"timeout": BUSY_TIMEOUT_S})
                listener = _on_read_only_connect if self.read_only else _on_sqlite_connect
                event.listen(engine, "connect", listener)
                event.listen(engine, "begin", _on_sqlite_begin)
            else:
                engine = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise StoreError(
                f"cannot use database {self._display_url}: {_reason(exc)}",
                hint="DRIFTCTL_DATABASE_URL or --database takes a SQLAlchemy URL, e.g. sqlite:////path/to.db",
            ) from exc
        self._engine: Engine = engine
        self._write_engine = engine.execution_options(**{_WRITE: True})
        # SQLite reads already see one snapshot per transaction; elsewhere ask for one so ``verify``
        # never mistakes a concurrent append for a head mismatch.
        self._snapshot_engine = (
            engine if self._sqlite else engine.execution_options(isolation_level="REPEATABLE READ")
        )
        self.keyring = keyring if keyring is not None else self._default_keyring()
        if not self.read_only:
            self._initialise()

    def _default_keyring(self) -> Keyring:
        """``audit.key`` next to a SQLite file; an in-memory key for an in-memory database; else the
        key file next to the default database."""
        database = make_url(self.url).database if self._sqlite else None
        if self._sqlite and (not database or database == ":memory:"):
            return Keyring.ephemeral()
        if database:
            return load_keyring(Path(os.path.abspath(database)).parent / KEY_FILE_NAME)
        return load_keyring(default_database_path(None).parent / KEY_FILE_NAME)

    def _initialise(self, attempts: int = 40) -> None:
        """Tables and head. Two processes creating one new SQLite file at once can get SQLITE_BUSY
        without SQLite's busy handler (switching to WAL, or upgrading a DDL transaction), so retry."""
        for attempt in range(attempts):
            try:
                with self._errors("create the driftctl tables"):
                    self._create_tables()
                self._ensure_head()
                return
            except StoreError as exc:
                if not exc.retryable or attempt == attempts - 1:
                    raise
                self._engine.dispose()
                time.sleep(0.05 + 0.05 * attempt)

    def _create_tables(self) -> None:
        tables = [_table(t) for t in _TABLES]
        if make_url(self.url).get_backend_name() != "postgresql":
            SQLModel.metadata.create_all(self._write_engine, tables=tables)
            with self._write_engine.begin() as conn:
                _add_missing_columns(conn)
            return
        # CREATE TABLE IF NOT EXISTS races on PostgreSQL: two first-time creators collide on the row
        # type's unique index. A transaction-scoped advisory lock lets one create while others wait.
        with self._write_engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            SQLModel.metadata.create_all(conn, tables=tables)
            _add_missing_columns(conn)

    @classmethod
    def open(cls, default_sqlite: Path, config_path: Path | None = None, *, read_only: bool = False) -> Store:
        """The store at ``$DRIFTCTL_DATABASE_URL``, else SQLite at ``default_sqlite`` (its dir made 0700).

        Its keyring: what the ``audit:`` section of ``config_path`` names, else ``audit.key`` next to
        the SQLite file (next to ``default_sqlite`` for another database: give every controller that
        shares it the same key through ``audit.key_env`` or ``audit.key_file``). ``read_only``: see
        ``__init__``; an existing database is then never created or changed.
        """
        keyring = configured_keyring(config_path)
        url = os.environ.get(DATABASE_URL_ENV, "").strip()
        if keyring is None and url and not url.startswith("sqlite"):
            keyring = load_keyring(default_sqlite.parent / KEY_FILE_NAME)  # a shared database: a local key
        if not url:
            if not (read_only and default_sqlite.is_file()):
                try:
                    default_sqlite.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                except OSError as exc:
                    nothing = f"no driftctl database at {default_sqlite}, so nothing was recorded there; "
                    raise StoreError(
                        f"{nothing if read_only else ''}cannot create {default_sqlite.parent} for the "
                        f"driftctl database: {exc.strerror or exc}",
                        hint="driftctl keeps its database and saved plans in .driftctl/ next to "
                        f"driftctl.yaml: make that directory writable, or set {DATABASE_URL_ENV}",
                    ) from None
            url = f"sqlite:///{default_sqlite}"
        return cls(url, keyring, read_only=read_only)

    @property
    def display_url(self) -> str:
        """The URL with any password replaced by ``***``: the only form that is ever shown."""
        return self._display_url

    def close(self) -> None:
        """Close pooled connections."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- tables other packages own (the service's lease, triggers, outbox; the drift ledger) -------

    def create_tables(self, *models: type[SQLModel]) -> None:
        """Create ``models``' tables in this database if missing (several processes may race to)."""
        for attempt in range(40):
            try:
                with self._errors("create tables"):
                    SQLModel.metadata.create_all(self._write_engine, tables=[_table(m) for m in models])
                return
            except StoreError as exc:
                if not exc.retryable or attempt == 39:
                    raise
                time.sleep(0.05 + 0.05 * attempt)

    def reading(self, doing: str) -> AbstractContextManager[Session]:
        """A read session; database errors become ``StoreError`` saying what was being done."""
        return self._read(doing)

    def writing(self, doing: str) -> AbstractContextManager[Session]:
        """One write transaction (SQLite: ``BEGIN IMMEDIATE``); errors become ``StoreError``."""
        return self._write(doing)

    # -- plumbing ----------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            error = StoreError(f"database {self._display_url}: cannot {doing}: {_reason(exc)}")
            if isinstance(exc, OperationalError) and "locked" in str(exc):
                error.retryable = True
                error.hint = f"another driftctl held the database for over {BUSY_TIMEOUT_S} s; retry"
            raise error from exc

    @contextmanager
    def _read(self, doing: str) -> Iterator[Session]:
        with self._errors(doing), Session(self._engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def _write(self, doing: str) -> Iterator[Session]:
        with (
            self._errors(doing),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def _ensure_head(self) -> None:
        # Only a brand-new trail gets a head; a missing head over existing rows is evidence, kept for verify.
        with self._read("read the audit head") as s:
            if s.get(AuditHead, 1) is not None:
                return
        try:
            with self._write("create the audit head") as s:
                if s.get(AuditHead, 1) is None and s.exec(sm_select(AuditRow.seq).limit(1)).first() is None:
                    s.add(AuditHead(id=1, seq=0, hash=GENESIS))
        except StoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError):  # another process created it first
                raise

    # -- audit trail -------------------------------------------------------------------------------

    def append(
        self,
        kind: str,
        *,
        run_id: str,
        status: str,
        data: Mapping[str, Any],
        workspace: str | None = None,
        subject: str | None = None,
    ) -> Entry:
        """Append one entry, chained to the head, in one transaction; safe across processes."""
        if kind not in AUDIT_KINDS:
            raise ValueError(f"unknown audit kind {kind!r}; one of {', '.join(AUDIT_KINDS)}")
        with self._write("append to the audit trail") as s:
            return self._append(s, kind, run_id, status, data, workspace, subject)

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
        """Append inside the open write transaction ``s`` (from ``writing``), e.g. with a record change."""
        return self._append(s, kind, run_id, status, data, workspace, subject)

    def _append(
        self,
        s: Session,
        kind: str,
        run_id: str,
        status: str,
        data: Mapping[str, Any],
        workspace: str | None,
        subject: str | None,
    ) -> Entry:
        """Append inside the open write transaction ``s``: sign the row and move (and sign) the head."""
        kid, key = self.keyring.signing_key()
        head = s.exec(sm_select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
        if head is None:
            raise StoreError(
                f"database {self._display_url}: the audit head record is missing, so the trail "
                "cannot be extended safely",
                hint="run `driftctl audit verify` to see what happened to the trail",
            )
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "ts": utc_now(),
            "run_id": run_id,
            "workspace": workspace,
            "kind": kind,
            "subject": subject,
            "status": status,
            "data": canonical(dict(data)).decode("utf-8"),
            "prev_hash": head.hash,
            "key_id": kid,
        }
        digest = entry_mac(key, head.hash, fields)
        s.add(AuditRow(**fields, hash=digest))
        head.seq, head.hash = fields["seq"], digest
        head.key_id, head.mac = kid, head_mac(key, fields["seq"], digest)
        s.add(head)
        s.flush()
        return Entry.from_row({**fields, "hash": digest})

    def entries(
        self,
        *,
        run_id: str | None = None,
        workspace: str | None = None,
        kind: str | None = None,
        subject: str | None = None,
        status: str | None = None,
        after_seq: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Entry]:
        """Entries matching every filter given (``None``: any), by seq; ``since`` ≤ ts < ``until``."""
        stmt = sm_select(AuditRow)
        for column, value in (
            (AuditRow.run_id, run_id),
            (AuditRow.workspace, workspace),
            (AuditRow.kind, kind),
            (AuditRow.subject, subject),
            (AuditRow.status, status),
        ):
            if value is not None:
                stmt = stmt.where(col(column) == value)
        if after_seq is not None:
            stmt = stmt.where(col(AuditRow.seq) > after_seq)
        if since is not None:
            stmt = stmt.where(col(AuditRow.ts) >= iso(since))
        if until is not None:
            stmt = stmt.where(col(AuditRow.ts) < iso(until))
        stmt = stmt.order_by(col(AuditRow.seq).desc() if newest_first else col(AuditRow.seq))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._read("read the audit trail") as s:
            return [Entry.from_row(row.model_dump()) for row in s.exec(stmt)]

    def entry(self, seq: int) -> Entry | None:
        """The entry with ``seq``, if there is one."""
        with self._read("read the audit trail") as s:
            row = s.get(AuditRow, seq)
            return Entry.from_row(row.model_dump()) if row is not None else None

    def _columns(self, conn: Connection, model: type[SQLModel]) -> list[Any]:
        """``model``'s columns that the database has: a read-only database from before audit keys
        lacks ``key_id``/``mac`` (nobody could add them), and is still verifiable."""
        table = _table(model)
        have = {c["name"] for c in inspect(conn).get_columns(table.name)}
        return [c if c.name in have else literal(None).label(c.name) for c in table.columns]

    def _head_row(self, conn: Connection) -> tuple[int, str, str | None, str | None] | None:
        cols = {c.name: c for c in self._columns(conn, AuditHead)}
        found = conn.execute(
            select(cols["seq"], cols["hash"], cols["key_id"], cols["mac"]).where(cols["id"] == 1)
        ).first()
        return (int(found[0]), str(found[1]), found[2], found[3]) if found is not None else None

    def head(self) -> tuple[int, str, str | None, str | None] | None:
        """The head record as stored: (seq, hash, key id, MAC); ``None`` if it is missing."""
        with self._errors("read the audit head"), self._engine.connect() as conn:
            return self._head_row(conn)

    def verify_chain(self) -> ChainReport:
        """Check every row's MAC, the links between rows and the signed head; rows streamed by seq."""
        audit = _table(AuditRow)
        verifier = ChainVerifier(self.keyring)
        with self._errors("read the audit trail"), self._snapshot_engine.connect() as conn:
            found = self._head_row(conn)
            head = (found[0], found[1]) if found is not None else None
            signature = (found[2], found[3]) if found is not None else (None, None)
            stmt = select(*self._columns(conn, AuditRow)).order_by(audit.c.seq)
            rows = conn.execution_options(yield_per=1000).execute(stmt)
            for row in rows.mappings():
                verifier.feed(dict(row))
        return verifier.finish(head, signature)

    def verify(self) -> ChainReport:
        """``verify_chain``, then every proposal against its latest chained state and content digest."""
        report = self.verify_chain()
        with self._errors("read the audit trail"), self._engine.connect() as conn:
            keyed = {c["name"] for c in inspect(conn).get_columns(_table(AuditRow).name)} >= {"key_id"}
        # A read-only database from before keys has no chained states to read (and cannot have any).
        states = self.proposal_states() if keyed else []
        problems = check_proposals(self.proposals(), states)
        if not problems:
            return report
        return replace(report, ok=False, problems=(*report.problems, *problems))

    def proposal_states(self, proposal_id: str | None = None) -> list[Entry]:
        """The chained state rows of every proposal (or of ``proposal_id``), by seq."""
        return [
            e
            for e in self.entries(kind="proposal")
            if is_state_entry(e.data) and (proposal_id is None or e.data["proposal"] == proposal_id)
        ]

    def export_jsonl(self, out: TextIO) -> int:
        """Write every entry as one canonical JSON object per line (with hashes); the number written."""
        audit = _table(AuditRow)
        count = 0
        with self._errors("read the audit trail"), self._snapshot_engine.connect() as conn:
            rows = conn.execution_options(yield_per=1000).execute(select(audit).order_by(audit.c.seq))
            for row in rows.mappings():
                out.write(canonical(Entry.from_row(dict(row)).to_json()).decode("utf-8") + "\n")
                count += 1
        return count

    def dangling_actions(self, workspace: str | None) -> list[Entry]:
        """``started`` action entries in ``workspace`` that no later action entry closed (``started_seq``)."""
        actions = self.entries(kind="action", workspace=workspace)
        if workspace is None:
            actions = [e for e in actions if e.workspace is None]
        closed: set[int] = set()
        dangling: list[Entry] = []
        for entry in reversed(actions):  # newest first, so every closer is seen before what it closes
            if entry.status == "started" and entry.seq not in closed:
                dangling.append(entry)
            started_seq = entry.data.get("started_seq")
            if isinstance(started_seq, int) and started_seq < entry.seq:
                closed.add(started_seq)
        return dangling[::-1]

    def count_entries(
        self,
        kind: str,
        *,
        workspace: str | None,
        status: str,
        since: datetime,
        where: Mapping[str, Any] = _NO_FILTER,
    ) -> int:
        """Entries of ``kind``/``workspace``/``status`` after ``since`` whose data has all of ``where``."""
        stmt = sm_select(AuditRow).where(
            col(AuditRow.kind) == kind, col(AuditRow.status) == status, col(AuditRow.ts) > iso(since)
        )
        stmt = stmt.where(
            col(AuditRow.workspace).is_(None) if workspace is None else col(AuditRow.workspace) == workspace
        )
        with self._read("read the audit trail") as s:
            rows = [decode_data(row.data) for row in s.exec(stmt)]
        return sum(1 for data in rows if all(k in data and data[k] == v for k, v in where.items()))
