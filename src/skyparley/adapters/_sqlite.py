"""SQLite helpers shared by the SQLite adapters: connections, pragmas, versioned migrations.

Connections are opened in autocommit mode (``isolation_level=None``): every transaction is
explicit (``BEGIN IMMEDIATE`` for the one writer, ``BEGIN`` for a reader's snapshot), so
nothing is committed behind the caller's back. The schema version lives in
``PRAGMA user_version``; :func:`migrate` applies the missing steps, each in its own
``BEGIN IMMEDIATE`` transaction together with the version bump.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from skyparley.errors import SkyparleyError

__all__ = [
    "Migration",
    "WalCheckpointer",
    "connect_reader",
    "connect_writer",
    "migrate",
    "read_snapshot",
]

log = logging.getLogger("skyparley.adapters.sqlite")

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


class WalCheckpointer:
    """Copies a writer's WAL into the database file from a thread of its own.

    SQLite checkpoints by itself inside the ``COMMIT`` that takes the WAL past 1000 pages:
    that commit then also copies the pages and syncs the database file (10 to 120 ms on the
    development VM instead of about 1 ms), and the caller waits for it, holding whatever
    lock it holds. :meth:`attach` turns that off for the writer connection
    (``wal_autocheckpoint=0``); the writer calls :meth:`committed` after each commit instead,
    and this thread runs a ``PASSIVE`` checkpoint (which waits for no reader and no writer)
    ``delay_s`` later, taking every commit made meanwhile. Durability is unchanged: a commit
    is synced in the WAL, and a crash before a checkpoint leaves the pages there (the next
    connection reads them). Call :meth:`close` to stop the thread (a last checkpoint is run).
    """

    def __init__(self, path: str | Path, *, delay_s: float = 0.25) -> None:
        self._path = Path(path)
        self._delay_s = delay_s
        self.failures = 0
        """Checkpoints that failed (each is logged; the next one takes their pages)."""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._conn = sqlite3.connect(
            str(path), isolation_level=None, timeout=_BUSY_TIMEOUT_S, check_same_thread=False
        )
        self._thread = threading.Thread(
            target=self._run, name=f"wal-checkpoint {self._path.name}", daemon=True
        )
        self._thread.start()

    @staticmethod
    def attach(conn: sqlite3.Connection) -> None:
        """Turn SQLite's own checkpoints off for the writer connection ``conn``."""
        conn.execute("PRAGMA wal_autocheckpoint=0")

    def committed(self) -> None:
        """Say that a commit was made (cheap: it only wakes the thread)."""
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.wait(self._delay_s):  # let the commits of the moment gather
                return
            self._wake.clear()
            # close() sets stop, then wake: if it did so since the wait above, the clear
            # may have just undone its wake, and waiting again would never end.
            if self._stop.is_set():
                return
            self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:  # the next one will do it; the data is safe in the WAL
            self.failures += 1
            log.warning("WAL checkpoint of %s failed", self._path, exc_info=True)

    def wal_bytes(self) -> int:
        """The size of the file's WAL now (0 when there is none): it grows while a reader's
        snapshot keeps a checkpoint from reaching its end."""
        try:
            return Path(f"{self._path}-wal").stat().st_size
        except FileNotFoundError:
            return 0

    def close(self) -> None:
        """Stop the thread, checkpoint once more and close its connection (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._checkpoint()
        self._conn.close()


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
