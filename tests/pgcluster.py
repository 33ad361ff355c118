"""A real PostgreSQL cluster for tests, in a temporary directory on loopback (I/O: processes, files).

``$DRIFTCTL_TEST_POSTGRES_URL`` names an existing server to use instead (CI may start one). Otherwise
the cluster is made with ``initdb`` and run with ``pg_ctl`` from PostgreSQL's own binaries (the
image's ``/usr/local/bin`` or Debian's ``/usr/lib/postgresql/N/bin``). PostgreSQL refuses to run as
root, so as root it runs as the ``postgres`` user (``runuser``), with its data directory handed over.
Trust authentication on 127.0.0.1 only; the cluster is stopped (fast) and removed at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

URL_ENV = "DRIFTCTL_TEST_POSTGRES_URL"


class PostgresUnavailable(RuntimeError):
    """No server binaries, or the cluster did not start: the message says which."""


def pg_binary(name: str) -> str | None:
    for candidate in (
        shutil.which(name),
        *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Cluster:
    port: int
    data_dir: Path | None  # None: a server this helper did not start
    url_base: str  # postgresql+psycopg://user@host:port

    def url(self, database: str = "postgres") -> str:
        return f"{self.url_base}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh database on the cluster; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.url("postgres").replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root and no `runuser` to start PostgreSQL as `postgres`")
    return [runuser, "-u", "postgres", "--", *argv]


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    existing = os.environ.get(URL_ENV)
    if existing:
        base, _, _db = existing.rpartition("/")
        yield Cluster(port=0, data_dir=None, url_base=base)
        return
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise PostgresUnavailable("no initdb/pg_ctl (Debian: apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="driftctl-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
        root.chmod(0o755)
    port = _free_port()
    log = root / "server.log"
    try:
        subprocess.run(
            _as_postgres(
                [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off -c max_connections=200"
        started = subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]),
            capture_output=True,
            text=True,
        )
        if started.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()}\n{tail}")
        _wait_accepting(port)
        yield Cluster(port=port, data_dir=data, url_base=f"postgresql+psycopg://postgres@127.0.0.1:{port}")
    except subprocess.CalledProcessError as exc:
        raise PostgresUnavailable(f"initdb failed: {exc.stderr.strip()[-2000:]}") from None
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True
            )
        shutil.rmtree(root, ignore_errors=True)


def _wait_accepting(port: int, attempts: int = 100) -> None:
    for _ in range(attempts):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise PostgresUnavailable(f"PostgreSQL did not accept connections on 127.0.0.1:{port}")


def restart(cluster: Cluster) -> None:
    """Restart the server (fast shutdown): clients see their connections drop and must reconnect."""
    pg_ctl = pg_binary("pg_ctl")
    if cluster.data_dir is None or pg_ctl is None:
        raise PostgresUnavailable("only a cluster this helper started can be restarted")
    subprocess.run(
        # -l: the restarted server must not inherit our pipes (communicate would wait for it to exit)
        _as_postgres(
            [
                pg_ctl,
                "-D",
                str(cluster.data_dir),
                "-l",
                str(cluster.data_dir.parent / "server.log"),
                "-m",
                "fast",
                "-w",
                "restart",
            ]
        ),
        check=True,
        capture_output=True,
    )
    _wait_accepting(cluster.port)
