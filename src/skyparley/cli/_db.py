"""The ``--db`` of ``serve`` and ``tokens``, checked before anything opens or creates it.

A folder, a file that is not SQLite, or an SQLite file of something else is refused (exit 2,
naming ``--db``), so that no command turns another program's file into a skyparley database,
leaves a half-made one behind, or fails later with a traceback. The file is only looked at
through a read-only connection here.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from skyparley.adapters._sqlite import connect_reader
from skyparley.adapters.store_sqlite import MIGRATIONS, store_schema_version
from skyparley.errors import InputError

__all__ = ["DbFile", "check_db", "check_store", "read_only"]

_LEDGER_TABLES = frozenset({"meta", "leaves", "checkpoints"})


@dataclass(frozen=True)
class DbFile:
    """What ``--db`` is: a path to create, a blank SQLite file, or a skyparley database."""

    path: Path
    exists: bool
    """The file is there (it may be blank: no table yet)."""
    store: bool
    """It holds the service's store (the tokens, notices, messages ...)."""
    ledger: bool
    """It holds a signed log."""


@contextlib.contextmanager
def read_only(db: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to ``db`` that leaves no file behind: reading a WAL database
    makes its ``-wal`` and ``-shm`` files, which stay when no writer has it open; those this
    read made (the WAL still empty) are removed after it."""
    side = [db.with_name(db.name + suffix) for suffix in ("-wal", "-shm")]
    there = [p.exists() for p in side]
    conn = connect_reader(db)
    try:
        yield conn
    finally:
        conn.close()
        wal = side[0]
        if not any(there) and wal.exists() and wal.stat().st_size == 0:
            for p in side:
                p.unlink(missing_ok=True)


def check_db(text: str, *, field: str = "--db") -> DbFile:
    """``text`` as a database to open or create: refused (an :class:`InputError` naming
    ``field``) when it is a folder, not SQLite, another program's database, or of a newer
    skyparley. Creates and writes nothing."""
    db = Path(text)
    if db.is_dir():
        raise InputError(field=field, reason=f"{db} is a folder")
    if not db.exists():
        if not db.parent.is_dir():
            raise InputError(field=field, reason=f"the folder {db.parent} does not exist")
        return DbFile(db, exists=False, store=False, ledger=False)
    if not db.is_file():
        raise InputError(field=field, reason=f"{db} is not a file")
    try:
        with read_only(db) as conn:
            try:
                tables = {
                    str(row[0])
                    for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                }
                version = store_schema_version(conn)
            except sqlite3.Error as exc:
                raise InputError(
                    field=field, reason=f"{db} is not a skyparley database ({exc})"
                ) from None
    except sqlite3.Error as exc:
        raise InputError(field=field, reason=f"{db} cannot be opened ({exc})") from None
    store = "store_schema" in tables
    ledger = tables >= _LEDGER_TABLES
    if tables and not (store or ledger):
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise InputError(
            field=field,
            reason=f"{db} is not a skyparley database (it holds other tables: {shown})",
        )
    if version > len(MIGRATIONS):
        raise InputError(
            field=field,
            reason=f"{db} is of a newer skyparley (store schema {version}; this one reads "
            f"up to {len(MIGRATIONS)}): upgrade skyparley",
        )
    return DbFile(db, exists=True, store=store, ledger=ledger)


def check_store(text: str, *, field: str = "--db") -> DbFile:
    """``text`` as an existing skyparley database with its store (for the commands that read
    tokens or change one): a missing or blank file is refused too, so nothing is created."""
    db = Path(text)
    if not db.exists() and not db.is_symlink():
        raise InputError(field=field, reason=f"{db}: no such file")
    found = check_db(text, field=field)
    if not found.store:
        what = "a blank file" if not found.ledger else "a signed log without the service's store"
        raise InputError(
            field=field, reason=f"{db} is not a skyparley database with tokens (it is {what})"
        )
    return found
