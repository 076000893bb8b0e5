"""The :class:`~skyparley.domain.ports.Store` in SQLite: the service's records, beside the ledger.

Durability and concurrency
--------------------------
WAL journal, ``synchronous=FULL``: :meth:`SqliteStore.commit` returns once its COMMIT is
fsynced. One write connection, guarded by a lock: a commit is one ``BEGIN IMMEDIATE`` ...
``COMMIT`` run in the caller's thread, and rolled back whole if anything in it fails (a
duplicate key raises :class:`~skyparley.errors.ConflictError` naming it). Message ``seq``
and event ``cursor`` are ``AUTOINCREMENT`` keys assigned inside that transaction: they start
at 1, a rolled-back commit leaves no hole, and a value is never reused, also after a
restart. Since commits are serial, a reader sees a value only once every smaller one is
committed. Readers use read-only connections, one per thread, each query on a committed
snapshot.

One file, two schemas
---------------------
The same file may hold the ledger (:class:`~skyparley.adapters.ledger_store.SqliteLedger`),
which versions its schema in ``PRAGMA user_version`` and owns the tables ``meta``,
``leaves``, ``nodes``, ``checkpoints`` and ``cosignatures``. This store keeps its own
version in ``store_schema(id = 1, version)`` and never touches ``user_version``;
:data:`MIGRATIONS` ``[k]`` takes it from version ``k`` to ``k + 1``, each step in its own
``BEGIN IMMEDIATE`` transaction with the version bump. A file of a newer version is refused.

Schema (``store_schema.version`` 2)
-----------------------------------
``tokens(n, id, party, role, token_sha256, created_s, label, revoked_s)``
    ``id`` and ``token_sha256`` unique.
``notices(party, id, version, state, body, recorded_s, entry_hash, ledger_index, attested)``
    Key ``(party, id, version)``; ``body`` is the notice's ``to_dict()`` JSON. The index
    ``notices_heads(party, id, version, state)`` lists the latest versions without the bodies.
``protected_areas(owner, id, version, body, recorded_s, entry_hash, ledger_index, attested)``
    Key ``(owner, id, version)``.
``findings(n, id, reader, notice, data, created_s, message_id, other_ref)``
    ``(id, reader)`` unique; ``n`` is the commit order. (``other_ref``: version 2.)
``messages(seq, id, thread, sender, recipients, kind, content, ...)`` and
``recipients(party, seq)``
    ``id`` unique; an inbox is a range scan of ``recipients`` on ``(party, seq)``.
``acks``, ``escalations``
    Unique on ``(message_id, party)`` and ``(message_id, party, level)``.
``deadlines(message_id, party, level, due_s)``
    Key ``(message_id, party)``, indexed on ``due_s``.
``events(cursor, party, type, data, at_s)``
    Indexed on ``(party, cursor)``.
``incidents(n, id, kind, parties, a, b, start_s, end_s, min_..., data, ...)`` and
``incident_parties(party, n)`` (version 2)
    ``id`` unique; a party's incidents are a scan of ``incident_parties``.

Notices and areas read back through ``from_dict`` are cached by their key (a stored version
never changes), so listing thousands of live notices parses only the new ones.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from skyparley.adapters._sqlite import (
    Migration,
    WalCheckpointer,
    connect_reader,
    connect_writer,
    read_snapshot,
)
from skyparley.adapters._store_records import (
    ack_key,
    area_from_json,
    area_json,
    area_key,
    check_page,
    conflict,
    dumps,
    dumps_read_back,
    escalation_key,
    finding_key,
    loads,
    message_key,
    notice_from_json,
    notice_json,
    notice_key,
    token_hash_key,
    token_id_key,
    unknown_token,
)
from skyparley.domain.notices import LIVE_STATES, OperationNotice, ProtectedArea
from skyparley.domain.ports import Committed
from skyparley.domain.records import (
    AckRecord,
    Changes,
    DeadlineRecord,
    EscalationRecord,
    Event,
    FindingRecord,
    IncidentRecord,
    MessageRecord,
    NoticeRecord,
    ProtectedAreaRecord,
    TokenRecord,
)
from skyparley.errors import SkyparleyError

__all__ = ["MIGRATIONS", "SqliteStore", "store_schema_version"]

MIGRATIONS: Final[tuple[Migration, ...]] = (
    (
        """CREATE TABLE tokens (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            party TEXT NOT NULL,
            role TEXT NOT NULL,
            token_sha256 TEXT NOT NULL UNIQUE,
            created_s REAL NOT NULL,
            label TEXT,
            revoked_s REAL
        )""",
        "CREATE INDEX tokens_party ON tokens (party, created_s, n)",
        """CREATE TABLE notices (
            party TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            state TEXT NOT NULL,
            body TEXT NOT NULL,
            recorded_s REAL NOT NULL,
            entry_hash TEXT NOT NULL,
            ledger_index INTEGER NOT NULL,
            attested INTEGER NOT NULL,
            PRIMARY KEY (party, id, version)
        ) WITHOUT ROWID""",
        # Covers the listing of latest versions without reading the bodies.
        "CREATE INDEX notices_heads ON notices (party, id, version, state)",
        """CREATE TABLE protected_areas (
            owner TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            body TEXT NOT NULL,
            recorded_s REAL NOT NULL,
            entry_hash TEXT NOT NULL,
            ledger_index INTEGER NOT NULL,
            attested INTEGER NOT NULL,
            PRIMARY KEY (owner, id, version)
        ) WITHOUT ROWID""",
        """CREATE TABLE findings (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            reader TEXT NOT NULL,
            notice TEXT NOT NULL,
            data TEXT NOT NULL,
            created_s REAL NOT NULL,
            message_id TEXT NOT NULL,
            UNIQUE (id, reader)
        )""",
        "CREATE INDEX findings_reader ON findings (reader, n)",
        """CREATE TABLE messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            thread TEXT NOT NULL,
            sender TEXT NOT NULL,
            recipients TEXT NOT NULL,
            kind TEXT NOT NULL,
            content TEXT NOT NULL,
            sent_s REAL NOT NULL,
            requires_ack INTEGER NOT NULL,
            deadline_s REAL,
            entry_hash TEXT NOT NULL,
            ledger_index INTEGER NOT NULL,
            reply_to TEXT,
            about TEXT,
            attested INTEGER NOT NULL
        )""",
        "CREATE INDEX messages_sender ON messages (sender, seq)",
        "CREATE INDEX messages_thread ON messages (thread, seq)",
        """CREATE TABLE recipients (
            party TEXT NOT NULL,
            seq INTEGER NOT NULL REFERENCES messages (seq),
            PRIMARY KEY (party, seq)
        ) WITHOUT ROWID""",
        """CREATE TABLE acks (
            n INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL,
            party TEXT NOT NULL,
            acked_s REAL NOT NULL,
            entry_hash TEXT NOT NULL,
            ledger_index INTEGER NOT NULL,
            attested INTEGER NOT NULL,
            UNIQUE (message_id, party)
        )""",
        """CREATE TABLE escalations (
            n INTEGER PRIMARY KEY,
            message_id TEXT NOT NULL,
            party TEXT NOT NULL,
            level INTEGER NOT NULL,
            level_name TEXT NOT NULL,
            at_s REAL NOT NULL,
            entry_hash TEXT NOT NULL,
            ledger_index INTEGER NOT NULL,
            UNIQUE (message_id, party, level)
        )""",
        """CREATE TABLE deadlines (
            message_id TEXT NOT NULL,
            party TEXT NOT NULL,
            level INTEGER NOT NULL,
            due_s REAL NOT NULL,
            PRIMARY KEY (message_id, party)
        ) WITHOUT ROWID""",
        "CREATE INDEX deadlines_due ON deadlines (due_s, message_id, party)",
        """CREATE TABLE events (
            cursor INTEGER PRIMARY KEY AUTOINCREMENT,
            party TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL,
            at_s REAL NOT NULL
        )""",
        "CREATE INDEX events_party ON events (party, cursor)",
    ),
    (
        "ALTER TABLE findings ADD COLUMN other_ref TEXT",
        """CREATE TABLE incidents (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            parties TEXT NOT NULL,
            a TEXT NOT NULL,
            b TEXT NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            min_hdist_nm REAL NOT NULL,
            min_hdist_s REAL NOT NULL,
            min_vdist_ft REAL NOT NULL,
            min_vdist_s REAL NOT NULL,
            data TEXT NOT NULL,
            entry_hash TEXT NOT NULL,
            ledger_index INTEGER NOT NULL
        )""",
        "CREATE INDEX incidents_start ON incidents (start_s, id)",
        """CREATE TABLE incident_parties (
            party TEXT NOT NULL,
            n INTEGER NOT NULL REFERENCES incidents (n),
            PRIMARY KEY (party, n)
        ) WITHOUT ROWID""",
    ),
)
"""The store's migrations: ``MIGRATIONS[k]`` takes ``store_schema.version`` from k to k + 1."""

_CACHE_MAX = 200_000
"""Most parsed notice and area versions kept (the cache is emptied when it grows past)."""

# ---------------------------------------------------------------- statements
# Fixed text only (no value is ever formatted into a statement): every value is bound.

_INSERT_INTO_TOKENS = (
    "INSERT INTO tokens (id, party, role, token_sha256, created_s, label, revoked_s)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_UPDATE_TOKENS_REVOKED = "UPDATE tokens SET revoked_s = ? WHERE id = ? AND revoked_s IS NULL"
_INSERT_NOTICE = (
    "INSERT INTO notices (party, id, version, body, recorded_s, entry_hash, ledger_index,"
    " attested, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_AREA = (
    "INSERT INTO protected_areas (owner, id, version, body, recorded_s, entry_hash,"
    " ledger_index, attested) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_FINDING = (
    "INSERT INTO findings (id, reader, notice, data, created_s, message_id, other_ref)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_INCIDENT = (
    "INSERT INTO incidents (id, kind, parties, a, b, start_s, end_s, min_hdist_nm, min_hdist_s,"
    " min_vdist_ft, min_vdist_s, data, entry_hash, ledger_index)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_INCIDENT_PARTY = "INSERT OR IGNORE INTO incident_parties (party, n) VALUES (?, ?)"
_INCIDENT = (
    "SELECT id, kind, parties, a, b, start_s, end_s, min_hdist_nm, min_hdist_s, min_vdist_ft,"
    " min_vdist_s, data, entry_hash, ledger_index FROM incidents WHERE id = ?"
)
_INCIDENTS = (
    "SELECT id, kind, parties, a, b, start_s, end_s, min_hdist_nm, min_hdist_s, min_vdist_ft,"
    " min_vdist_s, data, entry_hash, ledger_index FROM incidents ORDER BY start_s, id"
)
_INCIDENTS_OF = (
    "SELECT i.id, i.kind, i.parties, i.a, i.b, i.start_s, i.end_s, i.min_hdist_nm,"
    " i.min_hdist_s, i.min_vdist_ft, i.min_vdist_s, i.data, i.entry_hash, i.ledger_index"
    " FROM incident_parties p JOIN incidents i ON i.n = p.n WHERE p.party = ?"
    " ORDER BY i.start_s, i.id"
)
_INSERT_MESSAGE = (
    "INSERT INTO messages (id, thread, sender, recipients, kind, content, sent_s, requires_ack,"
    " deadline_s, entry_hash, ledger_index, reply_to, about, attested)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_RECIPIENT = "INSERT OR IGNORE INTO recipients (party, seq) VALUES (?, ?)"
_INSERT_ACK = (
    "INSERT INTO acks (message_id, party, acked_s, entry_hash, ledger_index, attested)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_ESCALATION = (
    "INSERT INTO escalations (message_id, party, level, level_name, at_s, entry_hash,"
    " ledger_index) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_SET_DEADLINE = (
    "INSERT INTO deadlines (message_id, party, level, due_s) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (message_id, party) DO UPDATE SET level = excluded.level,"
    " due_s = excluded.due_s"
)
_CLEAR_DEADLINE = "DELETE FROM deadlines WHERE message_id = ? AND party = ?"
_INSERT_EVENT = "INSERT INTO events (party, type, data, at_s) VALUES (?, ?, ?, ?)"

_SELECT_TOKENS_BY_HASH = (
    "SELECT id, party, role, token_sha256, created_s, label, revoked_s FROM tokens"
    " WHERE token_sha256 = ?"
)
_TOKENS = (
    "SELECT id, party, role, token_sha256, created_s, label, revoked_s FROM tokens"
    " ORDER BY created_s, n"
)
_TOKENS_OF = (
    "SELECT id, party, role, token_sha256, created_s, label, revoked_s FROM tokens"
    " WHERE party = ? ORDER BY created_s, n"
)

_NOTICE = (
    "SELECT party, id, version, body, recorded_s, entry_hash, ledger_index, attested"
    " FROM notices WHERE party = ? AND id = ? AND version = ?"
)
_NOTICE_LATEST = (
    "SELECT party, id, version, body, recorded_s, entry_hash, ledger_index, attested"
    " FROM notices WHERE party = ? AND id = ? ORDER BY version DESC LIMIT 1"
)
_NOTICE_VERSIONS = (
    "SELECT party, id, version, body, recorded_s, entry_hash, ledger_index, attested"
    " FROM notices WHERE party = ? AND id = ? ORDER BY version"
)
# The latest version of each notice or area: SQLite takes the bare columns of a query with
# one max() aggregate from the row that holds the maximum.
_NOTICES_LATEST = (
    "SELECT party, id, max(version), state FROM notices GROUP BY party, id ORDER BY party, id"
)
_NOTICES_LATEST_OF = (
    "SELECT party, id, max(version), state FROM notices WHERE party = ? GROUP BY party, id"
    " ORDER BY party, id"
)
_AREA = (
    "SELECT owner, id, version, body, recorded_s, entry_hash, ledger_index, attested"
    " FROM protected_areas WHERE owner = ? AND id = ? AND version = ?"
)
_AREA_LATEST = (
    "SELECT owner, id, version, body, recorded_s, entry_hash, ledger_index, attested"
    " FROM protected_areas WHERE owner = ? AND id = ? ORDER BY version DESC LIMIT 1"
)
_AREAS_LATEST = (
    "SELECT owner, id, max(version), body, recorded_s, entry_hash, ledger_index, attested"
    " FROM protected_areas GROUP BY owner, id ORDER BY owner, id"
)
_AREAS_LATEST_OF = (
    "SELECT owner, id, max(version), body, recorded_s, entry_hash, ledger_index, attested"
    " FROM protected_areas WHERE owner = ? GROUP BY owner, id ORDER BY owner, id"
)

_FINDINGS = (
    "SELECT id, reader, notice, data, created_s, message_id, other_ref FROM findings"
    " WHERE reader = ? ORDER BY n"
)

_MESSAGE = (
    "SELECT seq, id, thread, sender, recipients, kind, content, sent_s, requires_ack,"
    " deadline_s, entry_hash, ledger_index, reply_to, about, attested FROM messages"
    " WHERE id = ?"
)
_INBOX = (
    "SELECT m.seq, m.id, m.thread, m.sender, m.recipients, m.kind, m.content, m.sent_s,"
    " m.requires_ack, m.deadline_s, m.entry_hash, m.ledger_index, m.reply_to, m.about,"
    " m.attested FROM recipients r JOIN messages m ON m.seq = r.seq"
    " WHERE r.party = ? AND r.seq > ? ORDER BY r.seq LIMIT ?"
)
_SENT = (
    "SELECT seq, id, thread, sender, recipients, kind, content, sent_s, requires_ack,"
    " deadline_s, entry_hash, ledger_index, reply_to, about, attested FROM messages"
    " WHERE sender = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_THREAD = (
    "SELECT seq, id, thread, sender, recipients, kind, content, sent_s, requires_ack,"
    " deadline_s, entry_hash, ledger_index, reply_to, about, attested FROM messages"
    " WHERE thread = ? ORDER BY seq"
)
_ACKS = (
    "SELECT message_id, party, acked_s, entry_hash, ledger_index, attested FROM acks"
    " WHERE message_id = ? ORDER BY acked_s, n"
)
_ESCALATIONS = (
    "SELECT message_id, party, level, level_name, at_s, entry_hash, ledger_index"
    " FROM escalations WHERE message_id = ? ORDER BY at_s, level, n"
)
_DEADLINE = (
    "SELECT message_id, party, level, due_s FROM deadlines WHERE message_id = ? AND party = ?"
)
_DUE_DEADLINES = (
    "SELECT message_id, party, level, due_s FROM deadlines WHERE due_s <= ?"
    " ORDER BY due_s, message_id, party LIMIT ?"
)
_NEXT_DEADLINE = "SELECT min(due_s) FROM deadlines"
_EVENTS = (
    "SELECT cursor, party, type, data, at_s FROM events WHERE party = ? AND cursor > ?"
    " ORDER BY cursor LIMIT ?"
)
_LAST_CURSOR = "SELECT coalesce(max(cursor), 0) FROM events"

_UNIQUE_ERRORS: Final = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


def store_schema_version(conn: sqlite3.Connection) -> int:
    """The store's schema version in the file behind ``conn`` (0 when it has none yet)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_schema'"
    ).fetchone()
    if row is None:
        return 0
    row = conn.execute("SELECT version FROM store_schema WHERE id = 1").fetchone()
    return 0 if row is None else int(row[0])


def _migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Bring the store's schema to ``len(migrations)``; returns the version found before."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS store_schema ("
            " id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"
        )
        conn.execute("INSERT OR IGNORE INTO store_schema (id, version) VALUES (1, 0)")
        found = store_schema_version(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if found > len(migrations):
        raise SkyparleyError(
            f"the store schema is version {found}, newer than this skyparley "
            f"({len(migrations)}): upgrade skyparley"
        )
    for version in range(found, len(migrations)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have migrated meanwhile.
            if store_schema_version(conn) == version:
                for statement in migrations[version]:
                    conn.execute(statement)
                conn.execute("UPDATE store_schema SET version = ? WHERE id = 1", (version + 1,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found


def _is_duplicate(exc: sqlite3.IntegrityError) -> bool:
    return getattr(exc, "sqlite_errorname", "") in _UNIQUE_ERRORS


@contextlib.contextmanager
def _conflict_on_duplicate(field: str, what: str) -> Iterator[None]:
    """Turn a UNIQUE or PRIMARY KEY failure of one insert into the conflict naming ``what``."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        if _is_duplicate(exc):
            raise conflict(field, what) from exc
        raise


# ---------------------------------------------------------------- rows to records


def _token(row: Sequence[Any]) -> TokenRecord:
    return TokenRecord(
        id=row[0],
        party=row[1],
        role=row[2],
        token_sha256=row[3],
        created_s=row[4],
        label=row[5],
        revoked_s=row[6],
    )


def _finding(row: Sequence[Any]) -> FindingRecord:
    return FindingRecord(
        id=row[0],
        reader=row[1],
        notice=row[2],
        data=loads(row[3]),
        created_s=row[4],
        message_id=row[5],
        other_ref=row[6],
    )


def _incident(row: Sequence[Any]) -> IncidentRecord:
    return IncidentRecord(
        id=row[0],
        kind=row[1],
        parties=tuple(loads(row[2])),
        a=row[3],
        b=row[4],
        start_s=row[5],
        end_s=row[6],
        min_hdist_nm=row[7],
        min_hdist_s=row[8],
        min_vdist_ft=row[9],
        min_vdist_s=row[10],
        data=loads(row[11]),
        entry_hash=row[12],
        ledger_index=row[13],
    )


def _message(row: Sequence[Any], *, parsed: bool = False) -> MessageRecord:
    """A message from its row (``parsed``: ``to`` and ``content`` already read from JSON)."""
    return MessageRecord(
        seq=row[0],
        id=row[1],
        thread=row[2],
        sender=row[3],
        to=tuple(row[4] if parsed else loads(row[4])),
        kind=row[5],
        content=row[6] if parsed else loads(row[6]),
        sent_s=row[7],
        requires_ack=bool(row[8]),
        deadline_s=row[9],
        entry_hash=row[10],
        ledger_index=row[11],
        reply_to=row[12],
        about=row[13],
        attested=bool(row[14]),
    )


def _ack(row: Sequence[Any]) -> AckRecord:
    return AckRecord(
        message_id=row[0],
        party=row[1],
        acked_s=row[2],
        entry_hash=row[3],
        ledger_index=row[4],
        attested=bool(row[5]),
    )


def _escalation(row: Sequence[Any]) -> EscalationRecord:
    return EscalationRecord(
        message_id=row[0],
        party=row[1],
        level=row[2],
        level_name=row[3],
        at_s=row[4],
        entry_hash=row[5],
        ledger_index=row[6],
    )


def _deadline(row: Sequence[Any]) -> DeadlineRecord:
    return DeadlineRecord(message_id=row[0], party=row[1], level=row[2], due_s=row[3])


def _event(row: Sequence[Any]) -> Event:
    return Event(cursor=row[0], party=row[1], type=row[2], data=loads(row[3]), at_s=row[4])


# ---------------------------------------------------------------- the store


class SqliteStore:
    """The service's records in one SQLite file (see the module notes); a :class:`Store`.

    ``path`` is created when missing, and may be the ledger's file. Use as a context
    manager, or call :meth:`close` (after which every call raises
    :class:`~skyparley.errors.SkyparleyError`).
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()  # the writer connection, and the reader list
        self._closed = False
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._notice_cache: dict[tuple[str, str, int], NoticeRecord] = {}
        self._area_cache: dict[tuple[str, str, int], ProtectedAreaRecord] = {}
        self._conn = connect_writer(self._path, synchronous="FULL")
        self._checkpointer = WalCheckpointer(self._path)
        try:
            WalCheckpointer.attach(self._conn)
            self.schema_found = _migrate(self._conn, MIGRATIONS)
            """The store's schema version the file had when it was opened (0: new)."""
        except BaseException:
            self._conn.close()
            self._checkpointer.close()
            raise

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def checkpointer(self) -> WalCheckpointer:
        """The thread that copies this writer's WAL into the file (its size, its failures)."""
        return self._checkpointer

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the writer and every reader connection (a second call does nothing)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._checkpointer.close()

    def _reader(self) -> sqlite3.Connection:
        """This thread's read-only connection (opened on first use)."""
        if self._closed:
            raise SkyparleyError(f"{self._path}: the store is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._lock:
                if self._closed:
                    raise SkyparleyError(f"{self._path}: the store is closed")
                conn = connect_reader(self._path)
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    def _all(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        return self._reader().execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._reader().execute(sql, params).fetchone()

    # ------------------------------------------------------------------ writes

    def commit(self, changes: Changes) -> Committed:
        """Write everything in ``changes`` in one transaction, or nothing (see the port).

        Deadlines cleared and set in the same commit: the clears go first, so a deadline
        both cleared and set stays set.
        """
        # Encoding can fail on bad data (NaN, a set): before the transaction starts.
        notices = [(r, notice_json(r)) for r in changes.notices]
        areas = [(r, area_json(r)) for r in changes.protected_areas]
        findings = [(r, dumps(r.data)) for r in changes.findings]
        for inc in changes.incidents:
            dumps(inc.data)  # refuses what JSON cannot hold before the transaction starts
        messages = [
            (r, dumps_read_back(list(r.to)), dumps_read_back(r.content)) for r in changes.messages
        ]
        events = [(e, dumps_read_back(e.data)) for e in changes.events]
        with self._lock:
            if self._closed:
                raise SkyparleyError(f"{self._path}: the store is closed")
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._write_records(conn, changes, notices, areas, findings)
                committed = Committed(
                    messages=tuple(self._write_messages(conn, messages)),
                    events=tuple(self._write_events(conn, events)),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self._checkpointer.committed()
        return committed

    @staticmethod
    def _write_records(
        conn: sqlite3.Connection,
        changes: Changes,
        notices: list[tuple[NoticeRecord, str]],
        areas: list[tuple[ProtectedAreaRecord, str]],
        findings: list[tuple[FindingRecord, str]],
    ) -> None:
        for t in changes.tokens:
            try:
                conn.execute(
                    _INSERT_INTO_TOKENS,
                    (t.id, t.party, t.role, t.token_sha256, t.created_s, t.label, t.revoked_s),
                )
            except sqlite3.IntegrityError as exc:
                if not _is_duplicate(exc):
                    raise
                what = token_hash_key(t) if "token_sha256" in str(exc) else token_id_key(t)
                raise conflict("tokens", what) from exc
        for token_id, revoked_s in changes.revoked_tokens:
            if conn.execute(_UPDATE_TOKENS_REVOKED, (revoked_s, token_id)).rowcount == 0 and (
                conn.execute("SELECT 1 FROM tokens WHERE id = ?", (token_id,)).fetchone() is None
            ):
                raise unknown_token(token_id)
        for nr, body in notices:
            n = nr.notice
            key = (n.party, n.id, n.version)
            with _conflict_on_duplicate("notices", notice_key(nr)):
                conn.execute(
                    _INSERT_NOTICE,
                    (
                        *key,
                        body,
                        nr.recorded_s,
                        nr.entry_hash,
                        nr.ledger_index,
                        nr.attested,
                        n.state,
                    ),
                )
        for ar, body in areas:
            a = ar.area
            key = (a.owner, a.id, a.version)
            with _conflict_on_duplicate("protected_areas", area_key(ar)):
                conn.execute(
                    _INSERT_AREA,
                    (*key, body, ar.recorded_s, ar.entry_hash, ar.ledger_index, ar.attested),
                )
        for f, data in findings:
            with _conflict_on_duplicate("findings", finding_key(f)):
                conn.execute(
                    _INSERT_FINDING,
                    (f.id, f.reader, f.notice, data, f.created_s, f.message_id, f.other_ref),
                )
        for inc in changes.incidents:
            with _conflict_on_duplicate("incidents", f"incident {inc.id}"):
                row_n = conn.execute(
                    _INSERT_INCIDENT,
                    (
                        inc.id,
                        inc.kind,
                        dumps(list(inc.parties)),
                        inc.a,
                        inc.b,
                        inc.start_s,
                        inc.end_s,
                        inc.min_hdist_nm,
                        inc.min_hdist_s,
                        inc.min_vdist_ft,
                        inc.min_vdist_s,
                        dumps(inc.data),
                        inc.entry_hash,
                        inc.ledger_index,
                    ),
                ).lastrowid
            conn.executemany(_INSERT_INCIDENT_PARTY, [(p, row_n) for p in inc.parties])
        for ack in changes.acks:
            with _conflict_on_duplicate("acks", ack_key(ack)):
                conn.execute(
                    _INSERT_ACK,
                    (
                        ack.message_id,
                        ack.party,
                        ack.acked_s,
                        ack.entry_hash,
                        ack.ledger_index,
                        ack.attested,
                    ),
                )
        for e in changes.escalations:
            with _conflict_on_duplicate("escalations", escalation_key(e)):
                conn.execute(
                    _INSERT_ESCALATION,
                    (
                        e.message_id,
                        e.party,
                        e.level,
                        e.level_name,
                        e.at_s,
                        e.entry_hash,
                        e.ledger_index,
                    ),
                )
        conn.executemany(_CLEAR_DEADLINE, [(k[0], k[1]) for k in changes.cleared_deadlines])
        conn.executemany(
            _SET_DEADLINE, [(d.message_id, d.party, d.level, d.due_s) for d in changes.deadlines]
        )

    @staticmethod
    def _write_messages(
        conn: sqlite3.Connection,
        messages: list[tuple[MessageRecord, tuple[str, Any], tuple[str, Any]]],
    ) -> list[MessageRecord]:
        """Insert the messages; each comes back as :func:`_message` reads its row (``to``
        and ``content`` as read back from their JSON, already at hand)."""
        out: list[MessageRecord] = []
        for m, (to, to_back), (content, content_back) in messages:
            row = (m.id, m.thread, m.sender, to, m.kind, content, m.sent_s, m.requires_ack)
            more = (m.deadline_s, m.entry_hash, m.ledger_index, m.reply_to, m.about, m.attested)
            with _conflict_on_duplicate("messages", message_key(m)):
                seq = conn.execute(_INSERT_MESSAGE, (*row, *more)).lastrowid
            assert seq is not None  # an INSERT into a rowid table always sets it
            conn.executemany(_INSERT_RECIPIENT, [(party, seq) for party in m.to])
            read = (seq, m.id, m.thread, m.sender, to_back, m.kind, content_back, m.sent_s)
            out.append(_message((*read, m.requires_ack, *more), parsed=True))
        return out

    @staticmethod
    def _write_events(
        conn: sqlite3.Connection, events: list[tuple[Event, tuple[str, Any]]]
    ) -> list[Event]:
        """Insert the events; each comes back as :func:`_event` reads its row."""
        out: list[Event] = []
        for e, (data, back) in events:
            cursor = conn.execute(_INSERT_EVENT, (e.party, e.type, data, e.at_s)).lastrowid
            assert cursor is not None  # an INSERT into a rowid table always sets it
            out.append(Event(cursor=cursor, party=e.party, type=e.type, data=back, at_s=e.at_s))
        return out

    # ------------------------------------------------------------------ tokens

    def token_by_sha256(self, token_sha256: str) -> TokenRecord | None:
        """The token with that hash (revoked ones included), or None."""
        row = self._one(_SELECT_TOKENS_BY_HASH, (token_sha256,))
        return None if row is None else _token(row)

    def tokens(self, party: str | None = None) -> list[TokenRecord]:
        """Every token, or a party's, by creation time (then creation order)."""
        rows = self._all(_TOKENS) if party is None else self._all(_TOKENS_OF, (party,))
        return [_token(r) for r in rows]

    # ------------------------------------------------------------------ notices and areas

    def _notice(self, row: Sequence[Any]) -> NoticeRecord:
        key = (row[0], row[1], row[2])
        record = self._notice_cache.get(key)
        if record is None:
            notice: OperationNotice = notice_from_json(row[3])
            record = NoticeRecord(
                notice=notice,
                recorded_s=row[4],
                entry_hash=row[5],
                ledger_index=row[6],
                attested=bool(row[7]),
            )
            if len(self._notice_cache) >= _CACHE_MAX:
                self._notice_cache.clear()
            self._notice_cache[key] = record
        return record

    def _area(self, row: Sequence[Any]) -> ProtectedAreaRecord:
        key = (row[0], row[1], row[2])
        record = self._area_cache.get(key)
        if record is None:
            area: ProtectedArea = area_from_json(row[3])
            record = ProtectedAreaRecord(
                area=area,
                recorded_s=row[4],
                entry_hash=row[5],
                ledger_index=row[6],
                attested=bool(row[7]),
            )
            if len(self._area_cache) >= _CACHE_MAX:
                self._area_cache.clear()
            self._area_cache[key] = record
        return record

    def notice(self, party: str, notice_id: str, version: int | None = None) -> NoticeRecord | None:
        """A version of a notice (the latest when ``version`` is None), or None."""
        if version is None:
            row = self._one(_NOTICE_LATEST, (party, notice_id))
        else:
            row = self._one(_NOTICE, (party, notice_id, version))
        return None if row is None else self._notice(row)

    def notices(self, party: str | None = None, *, live_only: bool = False) -> list[NoticeRecord]:
        """The latest version of every notice, by party then id; ``live_only``: planned or
        active ones."""
        reader = self._reader()
        with read_snapshot(reader):
            if party is None:
                heads = reader.execute(_NOTICES_LATEST).fetchall()
            else:
                heads = reader.execute(_NOTICES_LATEST_OF, (party,)).fetchall()
            out: list[NoticeRecord] = []
            for p, nid, version, state in heads:
                if live_only and state not in LIVE_STATES:
                    continue
                record = self._notice_cache.get((p, nid, version))
                if record is None:  # a version not parsed yet: its row, in the same snapshot
                    record = self._notice(reader.execute(_NOTICE, (p, nid, version)).fetchone())
                out.append(record)
        return out

    def notice_versions(self, party: str, notice_id: str) -> list[NoticeRecord]:
        """Every version of one notice, ascending."""
        return [self._notice(r) for r in self._all(_NOTICE_VERSIONS, (party, notice_id))]

    def protected_area(
        self, owner: str, area_id: str, version: int | None = None
    ) -> ProtectedAreaRecord | None:
        """A version of a protected area (the latest when ``version`` is None), or None."""
        if version is None:
            row = self._one(_AREA_LATEST, (owner, area_id))
        else:
            row = self._one(_AREA, (owner, area_id, version))
        return None if row is None else self._area(row)

    def protected_areas(self, owner: str | None = None) -> list[ProtectedAreaRecord]:
        """The latest version of every protected area, by owner then id."""
        rows = self._all(_AREAS_LATEST) if owner is None else self._all(_AREAS_LATEST_OF, (owner,))
        return [self._area(r) for r in rows]

    # ------------------------------------------------------------------ findings

    def findings(self, reader: str) -> list[FindingRecord]:
        """Every finding addressed to ``reader``, in commit order."""
        return [_finding(r) for r in self._all(_FINDINGS, (reader,))]

    # ------------------------------------------------------------------ hotline

    def message(self, message_id: str) -> MessageRecord | None:
        """One message, or None."""
        row = self._one(_MESSAGE, (message_id,))
        return None if row is None else _message(row)

    def inbox(self, party: str, *, after: int = 0, limit: int = 100) -> list[MessageRecord]:
        """Messages addressed to ``party`` with ``seq > after``, ascending, at most ``limit``."""
        check_page(after, limit)
        return [_message(r) for r in self._all(_INBOX, (party, after, limit))]

    def sent(self, party: str, *, after: int = 0, limit: int = 100) -> list[MessageRecord]:
        """Messages sent by ``party`` with ``seq > after``, ascending, at most ``limit``."""
        check_page(after, limit)
        return [_message(r) for r in self._all(_SENT, (party, after, limit))]

    def thread(self, thread_id: str) -> list[MessageRecord]:
        """The messages of a thread, ascending by seq."""
        return [_message(r) for r in self._all(_THREAD, (thread_id,))]

    def acks(self, message_id: str) -> list[AckRecord]:
        """The acknowledgements of a message, by time (then commit order)."""
        return [_ack(r) for r in self._all(_ACKS, (message_id,))]

    def escalations(self, message_id: str) -> list[EscalationRecord]:
        """The escalations of a message, by time then level (then commit order)."""
        return [_escalation(r) for r in self._all(_ESCALATIONS, (message_id,))]

    def deadline(self, message_id: str, party: str) -> DeadlineRecord | None:
        """The pending deadline of ``party`` on a message, or None."""
        row = self._one(_DEADLINE, (message_id, party))
        return None if row is None else _deadline(row)

    def due_deadlines(self, now_s: float, *, limit: int = 100) -> list[DeadlineRecord]:
        """Pending deadlines with ``due_s <= now_s``, earliest first (then by message id and
        party)."""
        check_page(0, limit)
        return [_deadline(r) for r in self._all(_DUE_DEADLINES, (now_s, limit))]

    def next_deadline_s(self) -> float | None:
        """The earliest pending ``due_s``, or None when nothing is pending."""
        row = self._one(_NEXT_DEADLINE)
        return None if row[0] is None else float(row[0])

    # ------------------------------------------------------------------ streams

    def incident(self, incident_id: str) -> IncidentRecord | None:
        """One incident, or None."""
        row = self._one(_INCIDENT, (incident_id,))
        return None if row is None else _incident(row)

    def incidents(self, party: str | None = None) -> list[IncidentRecord]:
        """Every incident (or those concerning ``party``), by start time then id."""
        rows = self._all(_INCIDENTS) if party is None else self._all(_INCIDENTS_OF, (party,))
        return [_incident(r) for r in rows]

    def events(self, party: str, *, after: int = 0, limit: int = 500) -> list[Event]:
        """``party``'s events with ``cursor > after``, ascending, at most ``limit``."""
        check_page(after, limit)
        return [_event(r) for r in self._all(_EVENTS, (party, after, limit))]

    def last_cursor(self) -> int:
        """The largest cursor committed (0 when none)."""
        return int(self._one(_LAST_CURSOR)[0])
