"""The ledger in SQLite: one writer thread, group commit, receipts only after COMMIT.

Durability
----------
The database is in WAL mode with ``synchronous=FULL``: a COMMIT returns once the WAL is
fsynced. One writer thread owns the only write connection. :meth:`SqliteLedger.append`
verifies the author's signature in the caller's thread, queues the entry and waits; the
writer takes whatever is queued (up to ``max_batch`` entries), and in one ``BEGIN
IMMEDIATE`` transaction checks idempotency keys and hash chains, inserts the leaves and the
Merkle nodes they complete, and signs one checkpoint for the batch's final size. Only after
COMMIT does it hand each caller its :class:`~skyparley.domain.ledger.receipt.Receipt` (leaf
index, inclusion proof and the new checkpoint). An entry that got a receipt is on disk; an
entry whose append was cut off may or may not be, and the idempotency key makes the retry
safe either way.

Schema (``PRAGMA user_version`` 1)
----------------------------------
``meta(key, value)``
    ``origin`` and ``service_key`` (the service's verifier key text), checked on open;
    ``party_keys`` (a JSON object, party id to verifier key text: the keyring the log was
    opened with, parties added on a later open are merged in, a changed key is refused) and,
    when given at creation, ``protocol_hash`` (the content hash of the protocol the log was
    created under). An export copies them into the bundle.
``leaves(idx, party, idem, kind, client_time, entry_hash, leaf, leaf_hash, logged_s)``
    One row per leaf, ``idx`` from 0; ``UNIQUE (party, idem)``; ``leaf`` is the leaf bytes
    of :meth:`~skyparley.domain.ledger.entry.SignedEntry.leaf_bytes`, ``entry_hash`` the hex
    SHA-256 of the canonical entry (what the party's next entry names as ``prev``).
``nodes(level, idx, hash)``
    The hash of every *complete* perfect subtree of ``2**level`` leaves (``level >= 1``;
    level 0 is ``leaves.leaf_hash``), written in the transaction that completes it. Any
    subtree hash is then one primary-key lookup, so proofs cost O(log n) lookups.
``checkpoints(size, root, note, signed_s)``
    The signed checkpoint note of every committed size (one per batch, plus size 0).
``cosignatures(size, party, line, stored_s)``
    Parties' cosignature lines (C2SP tlog-cosignature), verified before they are stored.
"""

from __future__ import annotations

import contextlib
import json
import math
import queue
import re
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from skyparley.adapters._sqlite import (
    WalCheckpointer,
    connect_reader,
    connect_writer,
    migrate,
    read_snapshot,
)
from skyparley.domain.ledger.checkpoint import Checkpoint, sign_checkpoint
from skyparley.domain.ledger.entry import Entry, KeyRing, SignedEntry, verify_entry
from skyparley.domain.ledger.keys import COSIGNATURE_V1, SigningKey
from skyparley.domain.ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    tree_root,
)
from skyparley.domain.ledger.note import Note, NoteSignature, parse_note, verify_note
from skyparley.domain.ledger.receipt import Receipt
from skyparley.domain.ports import Clock, LoggedEntry
from skyparley.errors import LedgerError, LedgerInputError, VerificationError

__all__ = ["DEFAULT_MAX_BATCH", "LedgerReader", "SqliteLedger"]

DEFAULT_MAX_BATCH = 512
"""Most appends one group commit takes from the queue."""

SCHEMA: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
        """CREATE TABLE leaves (
            idx INTEGER PRIMARY KEY CHECK (idx >= 0),
            party TEXT NOT NULL,
            idem TEXT NOT NULL,
            kind TEXT NOT NULL,
            client_time TEXT NOT NULL,
            entry_hash TEXT NOT NULL,
            leaf BLOB NOT NULL,
            leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32),
            logged_s REAL NOT NULL,
            UNIQUE (party, idem)
        )""",
        "CREATE INDEX leaves_party ON leaves (party, idx)",
        "CREATE INDEX leaves_logged ON leaves (logged_s)",
        """CREATE TABLE nodes (
            level INTEGER NOT NULL CHECK (level >= 1),
            idx INTEGER NOT NULL CHECK (idx >= 0),
            hash BLOB NOT NULL CHECK (length(hash) = 32),
            PRIMARY KEY (level, idx)
        ) WITHOUT ROWID""",
        """CREATE TABLE checkpoints (
            size INTEGER PRIMARY KEY CHECK (size >= 0),
            root BLOB NOT NULL CHECK (length(root) = 32),
            note TEXT NOT NULL,
            signed_s REAL NOT NULL
        )""",
        """CREATE TABLE cosignatures (
            size INTEGER NOT NULL REFERENCES checkpoints (size),
            party TEXT NOT NULL,
            line TEXT NOT NULL,
            stored_s REAL NOT NULL,
            PRIMARY KEY (size, party)
        ) WITHOUT ROWID""",
    ),
)
"""The migrations: ``SCHEMA[k]`` takes ``user_version`` from ``k`` to ``k + 1``."""

_INSERT_LEAF = (
    "INSERT INTO leaves (idx, party, idem, kind, client_time, entry_hash, leaf, leaf_hash,"
    " logged_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_NODE = "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)"
_INSERT_CHECKPOINT = "INSERT INTO checkpoints (size, root, note, signed_s) VALUES (?, ?, ?, ?)"


# ----------------------------------------------------------------------------- tree access


class _SqliteTree:
    """:class:`~skyparley.domain.ledger.merkle.TreeHashes` over a connection, memoised.

    The memo also holds the hashes a batch is about to insert, so the writer builds its new
    nodes and proofs without re-reading them.
    """

    __slots__ = ("_conn", "_size", "memo")

    def __init__(self, conn: sqlite3.Connection, size: int) -> None:
        self._conn = conn
        self._size = size
        self.memo: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        return self._size

    def grow(self, size: int) -> None:
        self._size = size

    def node(self, level: int, idx: int) -> bytes:
        key = (level, idx)
        h = self.memo.get(key)
        if h is None:
            if level == 0:
                row = self._conn.execute(
                    "SELECT leaf_hash FROM leaves WHERE idx = ?", (idx,)
                ).fetchone()
            else:
                row = self._conn.execute(
                    "SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, idx)
                ).fetchone()
            if row is None:
                raise LedgerError(f"the store has no hash for node {idx} at level {level}")
            h = bytes(row[0])
            self.memo[key] = h
        return h

    def subtree_hash(self, start: int, end: int) -> bytes:
        width = end - start
        level = width.bit_length() - 1
        if width <= 0 or width != 1 << level or start % width or end > self._size:
            raise LedgerInputError(
                field="subtree", reason=f"[{start}, {end}) is not a perfect subtree of the tree"
            )
        return self.node(level, start >> level)


# ----------------------------------------------------------------------------- writer jobs


@dataclass(slots=True)
class _Append:
    """One entry queued for the writer (already verified by the caller's thread)."""

    signed: SignedEntry
    entry: Entry
    entry_hash: str
    leaf: bytes
    future: Future[Receipt] | None = None


@dataclass(slots=True)
class _Bulk:
    """Many entries for one transaction, no receipts: all of them go in, or none."""

    items: list[_Append]
    future: Future[int] = field(default_factory=Future)


@dataclass(slots=True)
class _Call:
    """Any other write, run by the writer in its own transaction."""

    fn: Callable[[sqlite3.Connection], object]
    future: Future[Any] = field(default_factory=Future)


_COSIGN_AHEAD_S = 300.0
"""How far past the service's clock a cosignature may be timed (the witness's clock runs
ahead): beyond it, the time is refused."""

_STOP = object()
_T = TypeVar("_T")


def _party_keys(text: str | None) -> dict[str, str]:
    """The ``party_keys`` meta value as a dict (empty for a log made before it existed)."""
    if text is None:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise LedgerError("the ledger's meta party_keys is not an object of key texts")
    return value


def _prepare(
    signed: SignedEntry, keyring: KeyRing, log_id: str, own: SigningKey | None = None
) -> _Append:
    """Checks that need no state (the signature, the log id) and the derived bytes.

    An entry signed in this process by ``own`` (the service key, :attr:`SignedEntry.signed_by`)
    whose party's key in ``keyring`` is ``own``'s public key, with the same key id, for this
    log, passes without verifying the signature again: ``own`` made it over these very bytes
    (a third of a millisecond per entry here). Anything else is verified as always.
    """
    e = signed.entry
    key = keyring.get(e.party)
    if not (
        own is not None
        and signed.signed_by is own
        and e.log_id == log_id
        and key is not None
        and key.public_key == own.public_key
        and signed.key_id == key.key_id
    ):
        e = verify_entry(signed, keyring, log_id=log_id)
    return _Append(signed=signed, entry=e, entry_hash=signed.hash, leaf=signed.leaf_bytes())


# ----------------------------------------------------------------------------- the store


class SqliteLedger:
    """The ledger store in one SQLite file (see the module notes); a :class:`LedgerStore`.

    ``origin`` names the log: checkpoints carry it and entries must name it as ``log_id``.
    ``service_key`` signs the checkpoints; ``keyring`` holds the parties' keys; ``clock``
    stamps ``logged_s`` and checkpoint times. ``protocol_hash`` (optional) is recorded when
    the file is created. Opening an existing file with another origin or service key, or
    with another key for a party it already knows, is refused. Use as a context manager, or
    call :meth:`close`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        service_key: SigningKey,
        origin: str,
        keyring: KeyRing,
        clock: Clock,
        max_batch: int = DEFAULT_MAX_BATCH,
        protocol_hash: str | None = None,
    ) -> None:
        Checkpoint(origin=origin, size=0, root_hash=EMPTY_ROOT)  # validates the origin line
        if protocol_hash is not None and not re.fullmatch(r"[0-9a-f]{64}", protocol_hash):
            raise LedgerInputError(
                field="protocol_hash", reason="must be 64 lowercase hex digits (a SHA-256)"
            )
        if max_batch < 1:
            raise LedgerInputError(field="max_batch", reason="must be at least 1")
        self._path = Path(path)
        self._origin = origin
        self._service_key = service_key
        self._keyring = keyring
        self._protocol_hash = protocol_hash
        self._clock = clock
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._heads: dict[str, str] = {}  # party -> hash of its last committed entry
        self.batches = 0
        """Group commits done (with at least one new leaf); for benchmarks and tests."""

        self._conn = connect_writer(self._path)
        self._checkpointer = WalCheckpointer(self._path)
        try:
            WalCheckpointer.attach(self._conn)
            migrate(self._conn, SCHEMA)
            self._open_meta()
            self._size = self._committed_size()
        except BaseException:
            self._conn.close()
            self._checkpointer.close()
            raise
        self._writer = threading.Thread(
            target=self._run, name=f"ledger-writer {self._path.name}", daemon=True
        )
        self._writer.start()

    # ------------------------------------------------------------------ properties

    @property
    def origin(self) -> str:
        """The log's origin line, also the ``log_id`` entries must name."""
        return self._origin

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def checkpointer(self) -> WalCheckpointer:
        """The thread that copies this writer's WAL into the file (its size, its failures)."""
        return self._checkpointer

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> SqliteLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let the writer finish what is queued, stop it and close every connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._writer.join()
        for conn in self._readers:
            conn.close()
        self._readers.clear()
        self._checkpointer.close()

    def _submit(self, job: object) -> None:
        with self._lock:
            if self._closed:
                raise LedgerError(f"{self._path}: the ledger store is closed")
            self._queue.put(job)

    # ------------------------------------------------------------------ appends

    def submit(self, signed: SignedEntry) -> Future[Receipt]:
        """Queue ``signed`` for the next group commit; the future gives its receipt.

        The signature is checked here, in the caller's thread, and a bad one raises
        :class:`~skyparley.errors.VerificationError` at once. The chain and idempotency
        checks happen in the writer; their errors come out of the future.
        """
        job = _prepare(signed, self._keyring, self._origin, self._service_key)
        job.future = Future()
        self._submit(job)
        return job.future

    def submit_many(self, entries: Sequence[SignedEntry]) -> list[Future[Receipt]]:
        """Queue several entries so that one group commit takes them all, in order.

        Every signature is checked first, in the caller's thread: one that fails raises at
        once and nothing is queued.
        """
        jobs = [_prepare(s, self._keyring, self._origin, self._service_key) for s in entries]
        for job in jobs:
            job.future = Future()
        if jobs:
            self._submit(jobs)
        return [job.future for job in jobs if job.future is not None]

    def append(self, signed: SignedEntry) -> Receipt:
        """Log ``signed``; returns its receipt once the entry is committed.

        Raises :class:`~skyparley.errors.VerificationError` when the signature does not
        verify for this log or the entry's ``prev`` is not the hash of its party's last
        entry (``null`` for the first), and :class:`~skyparley.errors.LedgerInputError`
        (field ``idem``) when ``(party, idem)`` already names another entry. The same entry
        appended again returns a receipt for its original leaf.
        """
        return self.submit(signed).result()

    def bulk_append(self, entries: Iterable[SignedEntry], *, batch_size: int = 50_000) -> int:
        """Log many entries without receipts, ``batch_size`` per transaction; returns the size.

        For imports and benchmarks. Every check of :meth:`append` applies; a refused entry
        fails its whole transaction (the earlier ones stay committed) and raises.
        """
        size = self._committed_size_read()
        items: list[_Append] = []
        for signed in entries:
            items.append(_prepare(signed, self._keyring, self._origin, self._service_key))
            if len(items) >= batch_size:
                size = self._run_bulk(items)
                items = []
        if items:
            size = self._run_bulk(items)
        return size

    def _run_bulk(self, items: list[_Append]) -> int:
        job = _Bulk(items=items)
        self._submit(job)
        return job.future.result()

    def _call(self, fn: Callable[[sqlite3.Connection], object]) -> Any:
        job = _Call(fn=fn)
        self._submit(job)
        return job.future.result()

    # ------------------------------------------------------------------ writer thread

    def _transaction(self, body: Callable[[], _T]) -> _T:
        """Run ``body`` between ``BEGIN IMMEDIATE`` and ``COMMIT``; roll back if it raises."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = body()
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._checkpointer.committed()
        return result

    def _open_meta(self) -> None:
        conn = self._conn
        vkey = self._service_key.verifier.to_text()
        keys = {party: key.to_text() for party, key in self._keyring.items()}

        def body() -> None:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if not meta:  # a new log: its identity and the checkpoint of the empty tree
                rows = [("origin", self._origin), ("service_key", vkey)]
                rows.append(("party_keys", json.dumps(keys, sort_keys=True)))
                if self._protocol_hash is not None:
                    rows.append(("protocol_hash", self._protocol_hash))
                conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)
                note = sign_checkpoint(Checkpoint(self._origin, 0, EMPTY_ROOT), self._service_key)
                conn.execute(_INSERT_CHECKPOINT, (0, EMPTY_ROOT, str(note), self._clock.now_s()))
                return
            if meta.get("origin") != self._origin:
                raise LedgerInputError(
                    field="origin",
                    reason=f"{self._path} is the log {meta.get('origin')!r}, not {self._origin!r}",
                )
            if meta.get("service_key") != vkey:
                raise LedgerInputError(
                    field="service_key",
                    reason=f"{self._path} is signed by {meta.get('service_key')}, not {vkey}",
                )
            stored = _party_keys(meta.get("party_keys"))
            for party, text in keys.items():
                if stored.setdefault(party, text) != text:
                    raise LedgerInputError(
                        field="keyring",
                        reason=f"party {party}'s key {text} is not the key {stored[party]} "
                        f"this log has recorded for it",
                    )
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('party_keys', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (json.dumps(stored, sort_keys=True),),
            )

        self._transaction(body)

    def _committed_size(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(idx) + 1, 0) FROM leaves").fetchone()
        return int(row[0])

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is _STOP:
                break
            jobs = list(first) if isinstance(first, list) else [first]
            appends = len(jobs)
            while appends < self._max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop = True
                    break
                more = job if isinstance(job, list) else [job]  # submit_many's group
                jobs.extend(more)
                appends += sum(isinstance(j, _Append) for j in more)
            try:
                self._dispatch(jobs)
            except Exception as exc:  # noqa: BLE001 (a bug here must not leave callers waiting)
                self._reset()
                for job in jobs:
                    future = getattr(job, "future", None)
                    if future is not None and not future.done():
                        future.set_exception(exc)
        self._conn.close()

    def _dispatch(self, jobs: list[object]) -> None:
        """Run the jobs in queue order: consecutive appends make one group commit."""
        group: list[_Append] = []
        for job in jobs:
            if isinstance(job, _Append):
                group.append(job)
                continue
            if group:
                self._group_commit(group)
                group = []
            if isinstance(job, _Bulk):
                self._bulk_commit(job)
            elif isinstance(job, _Call):
                self._call_commit(job)
        if group:
            self._group_commit(group)

    def _apply(
        self, items: Sequence[_Append], tree: _SqliteTree, now_s: float
    ) -> tuple[list[int | Exception], list[tuple[Any, ...]]]:
        """Decide each item inside the open transaction: its leaf index, or why it is refused.

        Returns the outcomes and the leaf rows to insert (new leaves get consecutive
        indices from the tree's size). Nothing is written here.
        """
        conn = self._conn
        size = tree.size
        heads: dict[str, str | None] = {}
        seen: dict[tuple[str, str], tuple[int, str]] = {}
        outcomes: list[int | Exception] = []
        rows: list[tuple[Any, ...]] = []
        for item in items:
            e = item.entry
            key = (e.party, e.idem)
            prior = seen.get(key)
            if prior is None:
                row = conn.execute(
                    "SELECT idx, entry_hash FROM leaves WHERE party = ? AND idem = ?", key
                ).fetchone()
                prior = None if row is None else (int(row[0]), str(row[1]))
            if prior is not None:
                if prior[1] == item.entry_hash:
                    outcomes.append(prior[0])  # a retry: the original leaf
                else:
                    outcomes.append(
                        LedgerInputError(
                            field="idem",
                            reason=f"party {e.party} already used idempotency key {e.idem!r} "
                            f"for another entry (leaf {prior[0]})",
                        )
                    )
                continue
            head = heads[e.party] if e.party in heads else self._head(e.party)
            if e.prev != head:
                outcomes.append(
                    VerificationError(
                        what="entry chain",
                        where=f"party {e.party}, idem {e.idem}",
                        reason=f"prev is {e.prev or 'null'} but the party's last entry hashes "
                        f"to {head or 'null'}",
                    )
                )
                continue
            idx = size
            size += 1
            lh = leaf_hash(item.leaf)
            tree.memo[(0, idx)] = lh
            rows.append(
                (idx, e.party, e.idem, e.kind, e.client_time, item.entry_hash, item.leaf, lh, now_s)
            )
            heads[e.party] = item.entry_hash
            seen[key] = (idx, item.entry_hash)
            outcomes.append(idx)
        return outcomes, rows

    def _head(self, party: str) -> str | None:
        head = self._heads.get(party)
        if head is None:
            row = self._conn.execute(
                "SELECT entry_hash FROM leaves WHERE party = ? ORDER BY idx DESC LIMIT 1",
                (party,),
            ).fetchone()
            if row is not None:
                head = str(row[0])
        return head

    def _write(self, tree: _SqliteTree, rows: list[tuple[Any, ...]], now_s: float) -> Note:
        """Insert the leaves, the nodes they complete and the checkpoint of the new size."""
        conn = self._conn
        old = tree.size
        new = old + len(rows)
        tree.grow(new)
        conn.executemany(_INSERT_LEAF, rows)
        nodes: list[tuple[int, int, bytes]] = []
        for i in range(old, new):
            level, j = 0, i
            while j & 1:  # leaf i completes the perfect subtrees whose last leaf it is
                h = node_hash(tree.node(level, j - 1), tree.node(level, j))
                level += 1
                j >>= 1
                tree.memo[(level, j)] = h
                nodes.append((level, j, h))
        conn.executemany(_INSERT_NODE, nodes)
        root = tree_root(tree, new)
        note = sign_checkpoint(Checkpoint(self._origin, new, root), self._service_key)
        conn.execute(_INSERT_CHECKPOINT, (new, root, str(note), now_s))
        return note

    def _commit_heads(self, items: Sequence[_Append], outcomes: Sequence[int | Exception]) -> None:
        for item, outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, int):
                self._heads[item.entry.party] = item.entry_hash

    def _group_commit(self, items: list[_Append]) -> None:
        conn = self._conn
        now_s = self._clock.now_s()
        tree = _SqliteTree(conn, self._size)

        def body() -> tuple[list[int | Exception], list[Receipt | Exception], bool]:
            outcomes, rows = self._apply(items, tree, now_s)
            if rows:
                note_text = str(self._write(tree, rows, now_s))
            else:  # only retries and refusals: receipts against the latest checkpoint
                note_text = conn.execute(
                    "SELECT note FROM checkpoints WHERE size = ?", (tree.size,)
                ).fetchone()[0]
            receipts: list[Receipt | Exception] = [
                outcome
                if isinstance(outcome, Exception)
                else Receipt(
                    leaf_index=outcome,
                    leaf_hash=tree.node(0, outcome),
                    inclusion_proof=inclusion_proof(outcome, tree.size, tree),
                    checkpoint=note_text,
                )
                for outcome in outcomes
            ]
            self._before_commit(items, receipts)
            return outcomes, receipts, bool(rows)

        try:
            outcomes, receipts, grew = self._transaction(body)
        except Exception as exc:  # noqa: BLE001 (every caller must hear of the failure)
            self._reset()
            for item in items:
                if item.future is not None and not item.future.done():
                    item.future.set_exception(exc)
            return
        # Committed: from here on every receipt is true.
        self._size = tree.size
        self._commit_heads(items, outcomes)
        self.batches += grew
        for item, result in zip(items, receipts, strict=True):
            if item.future is None or item.future.done():
                continue
            if isinstance(result, Exception):
                item.future.set_exception(result)
            else:
                item.future.set_result(result)

    def _before_commit(
        self, items: Sequence[_Append], receipts: Sequence[Receipt | Exception]
    ) -> None:
        """Runs inside the open transaction, just before COMMIT; does nothing here.

        A seam for the durability harness only: its negative control overrides it to hand
        out the receipts *before* the commit, and the harness must then report lost entries.
        """

    def _bulk_commit(self, job: _Bulk) -> None:
        now_s = self._clock.now_s()
        tree = _SqliteTree(self._conn, self._size)

        def body() -> tuple[list[int | Exception], bool]:
            outcomes, rows = self._apply(job.items, tree, now_s)
            refused = next((o for o in outcomes if isinstance(o, Exception)), None)
            if refused is not None:
                raise refused
            if rows:
                self._write(tree, rows, now_s)
            return outcomes, bool(rows)

        try:
            outcomes, grew = self._transaction(body)
        except Exception as exc:  # noqa: BLE001 (the caller hears of it through the future)
            self._reset()
            job.future.set_exception(exc)
            return
        self._size = tree.size
        self._commit_heads(job.items, outcomes)
        self.batches += grew
        job.future.set_result(tree.size)

    def _call_commit(self, job: _Call) -> None:
        try:
            result = self._transaction(lambda: job.fn(self._conn))
        except Exception as exc:  # noqa: BLE001 (the caller hears of it through the future)
            job.future.set_exception(exc)
            return
        job.future.set_result(result)

    def _reset(self) -> None:
        """After a failed transaction: forget cached state, re-read the committed size."""
        self._heads.clear()
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._size = self._committed_size()
        except sqlite3.Error:
            pass  # the next transaction will fail too and say why

    # ------------------------------------------------------------------ readers

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._lock:
                if self._closed:
                    raise LedgerError(f"{self._path}: the ledger store is closed")
                conn = connect_reader(self._path)
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    @staticmethod
    def _size_of(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT coalesce(max(idx) + 1, 0) FROM leaves").fetchone()[0])

    def _committed_size_read(self) -> int:
        return self._size_of(self._reader())

    def size(self) -> int:
        """Number of committed leaves."""
        return self._size_of(self._reader())

    def leaf(self, index: int) -> bytes:
        """The leaf bytes of leaf ``index``; :class:`LedgerInputError` when there is none."""
        row = self._reader().execute("SELECT leaf FROM leaves WHERE idx = ?", (index,)).fetchone()
        if row is None:
            raise LedgerInputError(field="index", reason=f"the log has no leaf {index}")
        return bytes(row[0])

    def entry(self, index: int) -> LoggedEntry:
        """Leaf ``index`` as a :class:`~skyparley.domain.ports.LoggedEntry`."""
        row = (
            self._reader()
            .execute("SELECT leaf, logged_s FROM leaves WHERE idx = ?", (index,))
            .fetchone()
        )
        if row is None:
            raise LedgerInputError(field="index", reason=f"the log has no leaf {index}")
        return LoggedEntry(
            index=index, signed=SignedEntry.from_leaf(bytes(row[0])), logged_s=float(row[1])
        )

    def head(self, party: str) -> str | None:
        """The entry hash of ``party``'s last committed entry (what its next ``prev`` names),
        or None before its first."""
        row = (
            self._reader()
            .execute(
                "SELECT entry_hash FROM leaves WHERE party = ? ORDER BY idx DESC LIMIT 1",
                (party,),
            )
            .fetchone()
        )
        return None if row is None else str(row[0])

    def find(self, party: str, idem: str) -> LoggedEntry | None:
        """The committed entry of ``party`` under idempotency key ``idem``, or None."""
        row = (
            self._reader()
            .execute(
                "SELECT idx, leaf, logged_s FROM leaves WHERE party = ? AND idem = ?",
                (party, idem),
            )
            .fetchone()
        )
        if row is None:
            return None
        return LoggedEntry(
            index=int(row[0]), signed=SignedEntry.from_leaf(bytes(row[1])), logged_s=float(row[2])
        )

    def entries(self, from_s: float | None = None, to_s: float | None = None) -> list[LoggedEntry]:
        """The entries logged in ``[from_s, to_s)`` (POSIX seconds), in log order."""
        rows = (
            self._reader()
            .execute(
                "SELECT idx, leaf, logged_s FROM leaves"
                " WHERE (? IS NULL OR logged_s >= ?) AND (? IS NULL OR logged_s < ?)"
                " ORDER BY idx",
                (from_s, from_s, to_s, to_s),
            )
            .fetchall()
        )
        return [
            LoggedEntry(index=int(i), signed=SignedEntry.from_leaf(bytes(b)), logged_s=float(t))
            for i, b, t in rows
        ]

    def checkpoint(self, size: int | None = None) -> Note:
        """The signed checkpoint at ``size`` (the latest when ``None``), with its cosignatures.

        Raises :class:`LedgerInputError` (field ``size``) when the log signed none at ``size``
        (checkpoints exist at the end of each group commit: see :meth:`checkpoint_sizes`).
        """
        conn = self._reader()
        with read_snapshot(conn):
            if size is None:
                row = conn.execute(
                    "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"
                ).fetchone()
            else:
                row = conn.execute(
                    "SELECT size, note FROM checkpoints WHERE size = ?", (size,)
                ).fetchone()
            if row is None:
                raise LedgerInputError(field="size", reason=f"no checkpoint at size {size}")
            lines = conn.execute(
                "SELECT line FROM cosignatures WHERE size = ? ORDER BY party", (row[0],)
            ).fetchall()
        note = parse_note(str(row[1]))
        cosigs = [parse_note(note.text + "\n" + str(line)).signatures[-1] for (line,) in lines]
        return note.with_signatures(*cosigs)

    def checkpoint_sizes(self) -> list[int]:
        """The sizes at which the log signed a checkpoint, ascending."""
        rows = self._reader().execute("SELECT size FROM checkpoints ORDER BY size").fetchall()
        return [int(s) for (s,) in rows]

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, ...]:
        """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size``."""
        conn = self._reader()
        with read_snapshot(conn):
            return inclusion_proof(index, size, _SqliteTree(conn, self._size_of(conn)))

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[bytes, ...]:
        """The RFC 9162 consistency proof from the tree of ``old_size`` to ``new_size``."""
        conn = self._reader()
        with read_snapshot(conn):
            return consistency_proof(old_size, new_size, _SqliteTree(conn, self._size_of(conn)))

    def root(self, size: int) -> bytes:
        """The tree root at ``size``, computed from the stored hashes."""
        conn = self._reader()
        with read_snapshot(conn):
            return tree_root(_SqliteTree(conn, self._size_of(conn)), size)

    # ------------------------------------------------------------------ cosignatures

    def store_cosignature(self, size: int, party: str, signature_line: str) -> bool:
        """Keep ``party``'s cosignature line on the checkpoint at ``size``, once it verifies.

        ``signature_line`` is a note signature line (``— <name> <base64>``, with or without
        its newline) by the party's key used as a cosignature/v1 key (type 0x04). Raises
        :class:`~skyparley.errors.VerificationError` when it does not verify, and
        :class:`LedgerInputError` for an unknown party, size or a malformed line. A party's
        first cosignature of a size is kept; later ones for the same size are ignored.
        Returns whether this line is the one kept (False: another line was kept before).
        """
        key = self._keyring.get(party)
        if key is None:
            raise LedgerInputError(field="party", reason=f"party {party!r} has no key")
        witness = key.with_type(COSIGNATURE_V1)
        note = parse_note(self._checkpoint_note_text(size))
        line = signature_line if signature_line.endswith("\n") else signature_line + "\n"
        if line.count("\n") != 1:
            raise LedgerInputError(
                field="cosignature", reason="must be one signature line, not several"
            )
        signed = parse_note(note.text + "\n" + line)
        (sig,) = signed.signatures
        if not sig.matches(witness):
            raise VerificationError(
                what="cosignature",
                where=f"party {party}, size {size}",
                reason=f"the line is not by the party's cosigning key "
                f"{witness.name}+{witness.key_id.hex()}",
            )
        verify_note(signed, [witness])
        stored_s = self._clock.now_s()
        self._check_cosigned_time(size, party, struct.unpack(">Q", sig.signature[:8])[0], stored_s)

        def insert(conn: sqlite3.Connection) -> bool:
            added = conn.execute(
                "INSERT INTO cosignatures (size, party, line, stored_s) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (size, party) DO NOTHING",
                (size, party, sig.to_line(), stored_s),
            ).rowcount
            if added:
                return True
            kept = conn.execute(
                "SELECT line FROM cosignatures WHERE size = ? AND party = ?", (size, party)
            ).fetchone()
            return kept is not None and str(kept[0]) == sig.to_line()

        return bool(self._call(insert))

    def _check_cosigned_time(self, size: int, party: str, time_s: int, now_s: float) -> None:
        """A cosignature's time must be no earlier than the last entry the checkpoint holds
        was logged (a verifier holds every entry of a cosigned checkpoint to have been
        logged by then, so an earlier one would make every later export fail, for good:
        a party's first cosignature of a size is the one kept) and no later than
        :data:`_COSIGN_AHEAD_S` past the service's clock."""
        row = (
            self._reader()
            .execute("SELECT logged_s FROM leaves WHERE idx = ?", (size - 1,))
            .fetchone()
        )
        if row is not None and time_s < math.floor(float(row[0])):
            raise LedgerInputError(
                field="cosignature",
                reason=f"{party} signed it at {time_s}, before the log held size {size} "
                f"(its last entry was logged at {float(row[0]):.3f}): check the witness's clock",
            )
        if time_s > now_s + _COSIGN_AHEAD_S:
            raise LedgerInputError(
                field="cosignature",
                reason=f"{party} signed it at {time_s}, more than {_COSIGN_AHEAD_S:g} s after "
                f"the service's clock ({now_s:.0f}): check the witness's clock",
            )

    def _checkpoint_note_text(self, size: int) -> str:
        row = (
            self._reader()
            .execute("SELECT note FROM checkpoints WHERE size = ?", (size,))
            .fetchone()
        )
        if row is None:
            raise LedgerInputError(field="size", reason=f"no checkpoint at size {size}")
        return str(row[0])

    def cosignatures(self, size: int) -> list[NoteSignature]:
        """The cosignature lines kept for the checkpoint at ``size``, by party."""
        return list(self.checkpoint(size).signatures[1:])


# ----------------------------------------------------------------------------- read-only


class LedgerReader:
    """A ledger file opened read-only, for export and audit: no key needed, nothing written.

    It reads what the file holds *as it is*: nothing here checks a signature or a proof (an
    exported bundle is verified by :func:`~skyparley.domain.ledger.bundle.verify_bundle`),
    so a tampered file is exported with its tampering in plain view. The few things that make
    an export impossible raise :class:`~skyparley.errors.VerificationError`: a leaf row
    missing below the latest checkpoint's size, a leaf row beyond it, a tree hash missing.

    Reads between :meth:`snapshot` enter and exit see one committed state.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        fld = str(path)
        if not self._path.is_file():
            raise LedgerInputError(field=fld, reason="no such ledger file")
        try:
            self._conn = connect_reader(self._path)
        except sqlite3.DatabaseError as exc:
            raise LedgerInputError(field=fld, reason=f"is not a ledger database ({exc})") from None
        try:
            version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
            meta = (
                dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
                if version == len(SCHEMA)
                else {}
            )
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise LedgerInputError(field=fld, reason=f"is not a ledger database ({exc})") from None
        if "origin" not in meta or "service_key" not in meta:
            self._conn.close()
            raise LedgerInputError(
                field=fld, reason=f"is not a skyparley ledger (schema version {version})"
            )
        self.origin: str = meta["origin"]
        """The log's origin line."""
        self.service_key: str = meta["service_key"]
        """The service's verifier key text."""
        self.party_keys: dict[str, str] = _party_keys(meta.get("party_keys"))
        """Party id to verifier key text, as recorded (empty for a log made before)."""
        self.protocol_hash: str | None = meta.get("protocol_hash")
        """The content hash of the protocol recorded at creation, if any."""

    def __enter__(self) -> LedgerReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def snapshot(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read transaction: every read inside it sees the same committed state."""
        return read_snapshot(self._conn)

    def latest_size(self) -> int:
        """The size of the latest signed checkpoint."""
        row = self._conn.execute("SELECT max(size) FROM checkpoints").fetchone()
        if row is None or row[0] is None:
            raise VerificationError(what="database", reason="the log has no checkpoint")
        return int(row[0])

    def check_leaves(self, size: int) -> None:
        """Check the leaf rows are exactly ``0 .. size - 1``; names the first one that is not."""
        conn = self._conn
        beyond = conn.execute("SELECT min(idx) FROM leaves WHERE idx >= ?", (size,)).fetchone()
        row = conn.execute("SELECT count(*) FROM leaves WHERE idx < ?", (size,)).fetchone()
        if int(row[0]) < size:
            expected = 0
            rows = conn.execute("SELECT idx FROM leaves WHERE idx < ? ORDER BY idx", (size,))
            for (idx,) in rows:
                if idx != expected:
                    break
                expected += 1
            raise VerificationError(
                what="database",
                where=f"leaf {expected}",
                reason=f"the row is missing, yet the latest checkpoint covers {size} leaves "
                "(a deleted row?)",
            )
        if beyond is not None and beyond[0] is not None:
            raise VerificationError(
                what="database",
                where=f"leaf {int(beyond[0])}",
                reason=f"the row lies beyond the latest checkpoint (size {size}): no signed "
                "checkpoint covers it (a row added behind the service's back?)",
            )

    def index_range(self, from_s: float | None, to_s: float | None, size: int) -> tuple[int, int]:
        """``[lo, hi)``: the leaves from the first logged at or after ``from_s`` to the last
        logged before ``to_s`` (every leaf between them included, whatever its time)."""
        lo_row = self._conn.execute(
            "SELECT min(idx) FROM leaves WHERE idx < ? AND (? IS NULL OR logged_s >= ?)",
            (size, from_s, from_s),
        ).fetchone()
        hi_row = self._conn.execute(
            "SELECT max(idx) FROM leaves WHERE idx < ? AND (? IS NULL OR logged_s < ?)",
            (size, to_s, to_s),
        ).fetchone()
        if lo_row[0] is None or hi_row[0] is None or int(hi_row[0]) < int(lo_row[0]):
            lo = size if lo_row[0] is None else int(lo_row[0])
            return lo, lo
        return int(lo_row[0]), int(hi_row[0]) + 1

    def leaves(self, lo: int, hi: int) -> list[tuple[int, bytes, float]]:
        """``(index, leaf bytes, logged_s)`` of the leaves ``lo .. hi - 1``, as stored."""
        rows = self._conn.execute(
            "SELECT idx, leaf, logged_s FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx",
            (lo, hi),
        ).fetchall()
        return [(int(i), bytes(b), float(t)) for i, b, t in rows]

    def checkpoint_sizes(self) -> list[int]:
        """The sizes of the signed checkpoints, ascending."""
        rows = self._conn.execute("SELECT size FROM checkpoints ORDER BY size").fetchall()
        return [int(s) for (s,) in rows]

    def cosigned_sizes(self) -> list[int]:
        """The sizes of the checkpoints with at least one stored cosignature, ascending."""
        rows = self._conn.execute("SELECT DISTINCT size FROM cosignatures ORDER BY size").fetchall()
        return [int(s) for (s,) in rows]

    def checkpoint_text(self, size: int) -> str:
        """The stored checkpoint note at ``size`` with its stored cosignature lines appended.

        The text is copied as stored, not parsed: a damaged note is the verifier's finding.
        """
        row = self._conn.execute("SELECT note FROM checkpoints WHERE size = ?", (size,)).fetchone()
        if row is None:
            raise LedgerInputError(field="size", reason=f"no checkpoint at size {size}")
        lines = self._conn.execute(
            "SELECT line FROM cosignatures WHERE size = ? ORDER BY party", (size,)
        ).fetchall()
        return str(row[0]) + "".join(str(line) for (line,) in lines)

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, ...]:
        """The inclusion proof of leaf ``index`` in the tree of ``size``, from stored hashes."""
        return inclusion_proof(index, size, _SqliteTree(self._conn, size))

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[bytes, ...]:
        """The consistency proof from ``old_size`` to ``new_size``, from stored hashes."""
        return consistency_proof(old_size, new_size, _SqliteTree(self._conn, new_size))
