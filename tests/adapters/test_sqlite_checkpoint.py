"""The WAL is copied into the database file by a thread of its own, never inside a commit."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from skyparley.adapters._sqlite import WalCheckpointer, connect_writer
from skyparley.adapters.clock import ManualClock
from skyparley.adapters.ledger_store import SqliteLedger
from skyparley.adapters.store_sqlite import SqliteStore
from skyparley.domain.ledger.entry import KeyRing
from skyparley.domain.ledger.keys import SigningKey


def test_commits_do_not_checkpoint_and_the_thread_does(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    conn = connect_writer(db)
    checkpointer = WalCheckpointer(db, delay_s=0.01)
    try:
        WalCheckpointer.attach(conn)
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        conn.execute("CREATE TABLE t (b BLOB)")
        for _ in range(8):  # 2 MB of WAL: past SQLite's own 1000-page mark
            conn.execute("INSERT INTO t VALUES (?)", (bytes(256 * 1024),))
        assert db.stat().st_size < 100_000  # nothing copied by the commits themselves
        checkpointer.committed()
        deadline = time.monotonic() + 10
        while db.stat().st_size < 2_000_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert db.stat().st_size >= 2_000_000
    finally:
        checkpointer.close()
        conn.close()


class _SlowClear(threading.Event):
    """An event whose ``clear`` takes a while: it holds the thread in the moment between
    deciding to checkpoint and clearing its wake-up, and says when it got there."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()

    def clear(self) -> None:
        self.entered.set()
        time.sleep(1.0)
        super().clear()


def test_a_close_while_a_checkpoint_is_starting_still_ends(tmp_path: Path) -> None:
    # close() sets stop, then wake; the thread clearing its wake-up just after used to undo
    # that wake and wait for another forever, so closing the store hung (seen in CI).
    checkpointer = WalCheckpointer(tmp_path / "c.db", delay_s=0.01)
    first = checkpointer._wake
    slow = checkpointer._wake = _SlowClear()
    slow.set()
    first.set()  # wakes the thread on whichever of the two it waits
    assert slow.entered.wait(timeout=10)  # it has gathered for delay_s and is in the clear
    closing = threading.Thread(target=checkpointer.close, daemon=True)
    closing.start()
    closing.join(timeout=10)
    assert not closing.is_alive(), "close() did not return"
    assert not checkpointer._thread.is_alive()


def test_the_adapters_leave_checkpoints_to_their_thread(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    key = SigningKey.from_seed("service.example/log", bytes(32))
    ledger = SqliteLedger(
        tmp_path / "s.db",
        service_key=key,
        origin="service.example/log",
        keyring=KeyRing([]),
        clock=ManualClock(0.0),
    )
    for conn in (store._conn, ledger._conn):
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    ledger.close()
    store.close()
    store.close()  # a second close does nothing
    assert not store._checkpointer._thread.is_alive()
    assert not ledger._checkpointer._thread.is_alive()


def test_the_wal_size_and_failed_checkpoints_are_told(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    checkpointer = WalCheckpointer(db, delay_s=0.01)
    conn = connect_writer(db)
    try:
        WalCheckpointer.attach(conn)
        conn.execute("CREATE TABLE t (b BLOB)")
        conn.execute("INSERT INTO t VALUES (?)", (bytes(64 * 1024),))
        assert checkpointer.wal_bytes() == (tmp_path / "w.db-wal").stat().st_size > 64 * 1024
        assert checkpointer.failures == 0
        checkpointer._conn.close()  # a checkpoint on a closed connection fails
        checkpointer._checkpoint()
        assert checkpointer.failures == 1
    finally:
        checkpointer._stop.set()  # closing would checkpoint on the closed connection again
        checkpointer._wake.set()
        checkpointer._thread.join()
        conn.close()
    idle = WalCheckpointer(tmp_path / "none.db")
    try:
        assert idle.wal_bytes() == 0
    finally:
        idle.close()
