"""Ports: what the domain and the use cases need from the outside world, as protocols.

Adapters implement them (:class:`~skyparley.adapters.ledger_store.SqliteLedger` is the SQLite
ledger store); the layers above take them as parameters, never import an adapter. A port
says what a call promises, not how it is kept: the contract tests run the same assertions
against every implementation.

- :class:`Clock`: the time, injected (nothing reads the system clock behind the caller's back).
- :class:`LedgerStore`: the append-only signed log of issue 4: appends that return receipts
  once committed, and the reads an auditor or an exporter needs.
- :class:`Store`: what the service keeps besides the ledger (tokens, notices, protected
  areas, findings, hotline messages, acknowledgements, escalations, pending deadlines and
  the parties' event streams), written one use case at a time by :meth:`Store.commit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from skyparley.domain.ledger.entry import SignedEntry
from skyparley.domain.ledger.note import Note, NoteSignature
from skyparley.domain.ledger.receipt import Receipt
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

__all__ = ["Clock", "Committed", "LedgerStore", "LoggedEntry", "Store"]


class Clock(Protocol):
    """A source of the current time, injected wherever the time is needed."""

    def now_s(self) -> float:
        """The current UTC time in POSIX seconds."""
        ...


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """A signed entry as the log holds it: its leaf index and when the log took it.

    ``logged_s`` is the store's clock at the append (POSIX seconds), not the author's
    ``client_time``: the author says when it wrote, the log says when it received.
    """

    index: int
    signed: SignedEntry
    logged_s: float


class LedgerStore(Protocol):
    """The ledger's storage: an append-only RFC 9162 log of signed entries.

    Promises of every implementation:

    - :meth:`append` verifies the author's signature for this log, checks the author's hash
      chain and returns a :class:`~skyparley.domain.ledger.receipt.Receipt` only once the
      entry is durable. The same ``(party, idem)`` appended again gets the original leaf
      back (never a second leaf); another entry under a used ``(party, idem)`` is refused.
    - every checkpoint is signed by the service key, and each one is consistent with every
      earlier one;
    - readers see committed data only.
    """

    @property
    def origin(self) -> str:
        """The log's origin line (also the ``log_id`` its entries must name)."""
        ...

    def append(self, signed: SignedEntry) -> Receipt:
        """Log one signed entry; returns its receipt once it is committed."""
        ...

    def size(self) -> int:
        """Number of leaves committed."""
        ...

    def leaf(self, index: int) -> bytes:
        """The leaf bytes of leaf ``index``."""
        ...

    def entry(self, index: int) -> LoggedEntry:
        """Leaf ``index`` as a :class:`LoggedEntry`."""
        ...

    def entries(self, from_s: float | None = None, to_s: float | None = None) -> list[LoggedEntry]:
        """The entries logged in ``[from_s, to_s)`` (POSIX seconds; ``None``: no bound)."""
        ...

    def head(self, party: str) -> str | None:
        """The entry hash of ``party``'s last committed entry, or None before its first."""
        ...

    def find(self, party: str, idem: str) -> LoggedEntry | None:
        """The committed entry of ``party`` under idempotency key ``idem``, or None."""
        ...

    def checkpoint(self, size: int | None = None) -> Note:
        """The signed checkpoint at ``size`` (the latest when ``None``) with its cosignatures."""
        ...

    def checkpoint_sizes(self) -> list[int]:
        """The sizes at which the log signed a checkpoint, ascending."""
        ...

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, ...]:
        """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size``."""
        ...

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[bytes, ...]:
        """The RFC 9162 consistency proof from the tree of ``old_size`` to ``new_size``."""
        ...

    def store_cosignature(self, size: int, party: str, signature_line: str) -> bool:
        """Keep a party's cosignature line on the checkpoint at ``size``, once it verifies;
        whether it is the line kept (a party's first cosignature of a size is the one)."""
        ...

    def cosignatures(self, size: int) -> Sequence[NoteSignature]:
        """The cosignature lines kept for the checkpoint at ``size``."""
        ...

    def close(self) -> None:
        """Finish pending appends and release the store."""
        ...


@dataclass(frozen=True, slots=True)
class Committed:
    """What :meth:`Store.commit` assigned: the messages with their ``seq`` and the events
    with their ``cursor``, in the order they were given."""

    messages: tuple[MessageRecord, ...] = ()
    events: tuple[Event, ...] = ()


class Store(Protocol):
    """The service's records (see :mod:`skyparley.domain.records`).

    Promises of every implementation (the contract suite in ``tests/adapters`` checks them):

    - :meth:`commit` writes a :class:`~skyparley.domain.records.Changes` all or nothing and
      returns only once it is durable. A key written twice (a notice or protected-area
      version, a finding ``(id, reader)``, a message id, an ack ``(message_id, party)``, an
      escalation ``(message_id, party, level)``, a token id or hash, an incident id) raises
      :class:`~skyparley.errors.ConflictError` naming it, and nothing of that commit is
      written.
    - message ``seq`` and event ``cursor`` values are assigned at commit, start at 1 and
      only increase, also across a restart; a reader never sees a gap that a later read
      fills (a value is visible only once every smaller one is).
    - readers see committed data only. Lists are in ascending order of their key (seq,
      cursor, due time, version).
    """

    # -- writes
    def commit(self, changes: Changes) -> Committed:
        """Write everything in ``changes`` in one transaction."""
        ...

    # -- tokens
    def token_by_sha256(self, token_sha256: str) -> TokenRecord | None:
        """The token with that hash (revoked ones included), or None."""
        ...

    def tokens(self, party: str | None = None) -> list[TokenRecord]:
        """Every token, or a party's, by creation time."""
        ...

    # -- notices and protected areas
    def notice(self, party: str, notice_id: str, version: int | None = None) -> NoticeRecord | None:
        """A version of a notice (the latest when ``version`` is None), or None."""
        ...

    def notices(self, party: str | None = None, *, live_only: bool = False) -> list[NoticeRecord]:
        """The latest version of every notice (of ``party``, or of all parties); with
        ``live_only``, only those whose latest version is planned or active."""
        ...

    def notice_versions(self, party: str, notice_id: str) -> list[NoticeRecord]:
        """Every version of one notice, ascending."""
        ...

    def protected_area(
        self, owner: str, area_id: str, version: int | None = None
    ) -> ProtectedAreaRecord | None:
        """A version of a protected area (the latest when ``version`` is None), or None."""
        ...

    def protected_areas(self, owner: str | None = None) -> list[ProtectedAreaRecord]:
        """The latest version of every protected area (of ``owner``, or of all)."""
        ...

    # -- findings
    def findings(self, reader: str) -> list[FindingRecord]:
        """Every finding addressed to ``reader``, in commit order."""
        ...

    # -- hotline
    def message(self, message_id: str) -> MessageRecord | None:
        """One message, or None."""
        ...

    def inbox(self, party: str, *, after: int = 0, limit: int = 100) -> list[MessageRecord]:
        """Messages addressed to ``party`` with ``seq > after``, ascending, at most ``limit``."""
        ...

    def sent(self, party: str, *, after: int = 0, limit: int = 100) -> list[MessageRecord]:
        """Messages sent by ``party`` with ``seq > after``, ascending, at most ``limit``."""
        ...

    def thread(self, thread_id: str) -> list[MessageRecord]:
        """The messages of a thread, ascending by seq."""
        ...

    def acks(self, message_id: str) -> list[AckRecord]:
        """The acknowledgements of a message, by time."""
        ...

    def escalations(self, message_id: str) -> list[EscalationRecord]:
        """The escalations of a message, by time then level."""
        ...

    def deadline(self, message_id: str, party: str) -> DeadlineRecord | None:
        """The pending deadline of ``party`` on a message, or None."""
        ...

    def due_deadlines(self, now_s: float, *, limit: int = 100) -> list[DeadlineRecord]:
        """Pending deadlines with ``due_s <= now_s``, earliest first."""
        ...

    def next_deadline_s(self) -> float | None:
        """The earliest pending ``due_s``, or None when nothing is pending."""
        ...

    # -- incidents
    def incident(self, incident_id: str) -> IncidentRecord | None:
        """One incident, or None."""
        ...

    def incidents(self, party: str | None = None) -> list[IncidentRecord]:
        """Every incident (or those concerning ``party``), by start time then id."""
        ...

    # -- streams
    def events(self, party: str, *, after: int = 0, limit: int = 500) -> list[Event]:
        """``party``'s events with ``cursor > after``, ascending, at most ``limit``."""
        ...

    def last_cursor(self) -> int:
        """The largest cursor committed (0 when none)."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
