"""Opening a SQLite database driftctl cannot write (I/O: the file system, one probe connection).

A store on a read-only directory or file (a mounted backup, a colleague's copy, a locked-down CI
checkout) must still be verifiable and listable. SQLite reads such a file through a ``mode=ro`` URI;
a WAL database also needs its shared-memory index (``-shm``), which SQLite cannot create in a
read-only directory, so the file is then opened ``immutable`` (no locks: right for a file nobody can
write, and what SQLite documents for read-only media).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:///path``), or None for other databases and memory."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def writable(path: Path) -> bool:
    """Whether driftctl may write the database at ``path`` (and the journal files beside it)."""
    directory = path.parent if path.parent != Path("") else Path(".")
    if not os.access(directory, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def read_only_url(path: Path) -> str:
    """A SQLAlchemy URL that reads ``path`` without ever writing it or the directory around it."""
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        uri += "&immutable=1"  # a WAL file whose -shm cannot be created here
    return f"sqlite:///{uri}&uri=true"
