"""SQLite helpers shared by the SQLite adapters: connections, pragmas, versioned migrations.

Connections are opened in autocommit mode (``isolation_level=None``): every transaction is
explicit (``BEGIN IMMEDIATE`` for the one writer, ``BEGIN`` for a reader's snapshot), so
nothing is committed behind the caller's back. The schema version lives in
``PRAGMA user_version``; :func:`migrate` applies the missing steps, each in its own
``BEGIN IMMEDIATE`` transaction together with the version bump.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from skyparley.errors import SkyparleyError

__all__ = ["Migration", "connect_reader", "connect_writer", "migrate", "read_snapshot"]

Migration = Sequence[str]
"""One schema step: SQL statements run in one transaction (no parameters, fixed text)."""

_BUSY_TIMEOUT_S = 30.0


def connect_writer(path: str | Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """The connection of the one writer: WAL journal, ``synchronous`` as given (FULL for logs).

    ``check_same_thread`` is off because the connection is created by one thread and used by
    the writer thread only; the caller keeps it that way.
    """
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous={synchronous!r}")
    conn = sqlite3.connect(
        str(path), isolation_level=None, timeout=_BUSY_TIMEOUT_S, check_same_thread=False
    )
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.close()
        raise SkyparleyError(f"{path}: SQLite could not switch to WAL mode (got {mode})")
    # A pragma takes no bound parameter; the value is one of the four checked above.
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def connect_reader(path: str | Path) -> sqlite3.Connection:
    """A read-only connection (its own snapshot per transaction; never blocks the writer)."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(
        uri, uri=True, isolation_level=None, timeout=_BUSY_TIMEOUT_S, check_same_thread=False
    )
    conn.execute("PRAGMA query_only=ON")
    return conn


@contextlib.contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every query inside sees the same committed state."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Bring the schema to ``len(migrations)``; returns the version found before.

    ``migrations[k]`` takes the schema from version ``k`` to ``k + 1``. A database newer than
    this code (a higher ``user_version``) is refused rather than misread.
    """
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > len(migrations):
        raise SkyparleyError(
            f"the database schema is version {found}, newer than this skyparley "
            f"({len(migrations)}): upgrade skyparley"
        )
    for version in range(found, len(migrations)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            now = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if now == version:
                for statement in migrations[version]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={version + 1:d}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found
