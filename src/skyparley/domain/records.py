"""What the service keeps: the records behind the :class:`~skyparley.domain.ports.Store` port.

Plain frozen values; the store adapters map them to rows, the service builds them. Every
record names its owner (``party``, ``sender``, ``reader``): a read is always for one party,
and the service filters what it returns by the protocol's sharing policy.

``entry_hash`` and ``ledger_index`` tie a record to its signed ledger entry: the hex
SHA-256 of the entry's canonical bytes (what an ``ack`` names) and its leaf index.
``attested`` is True when the service signed the entry on the party's behalf (a request
without the party's own signature), False when the party signed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from skyparley.domain.notices import OperationNotice, ProtectedArea

__all__ = [
    "ROLES",
    "AckRecord",
    "Changes",
    "DeadlineRecord",
    "EscalationRecord",
    "Event",
    "FindingRecord",
    "IncidentRecord",
    "MessageRecord",
    "NoticeRecord",
    "ProtectedAreaRecord",
    "TokenRecord",
]

ROLES: Final = ("viewer", "operator", "admin")
"""API roles, least to most: a viewer reads, an operator also writes, an admin also manages
tokens."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token: only its SHA-256 is kept. ``id`` is public (shown, used to revoke)."""

    id: str
    party: str
    role: str
    token_sha256: str
    created_s: float
    label: str | None = None
    revoked_s: float | None = None


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """One version of an operation notice as filed."""

    notice: OperationNotice
    recorded_s: float
    entry_hash: str
    ledger_index: int
    attested: bool = False


@dataclass(frozen=True, slots=True)
class ProtectedAreaRecord:
    """One version of a protected area as declared."""

    area: ProtectedArea
    recorded_s: float
    entry_hash: str
    ledger_index: int
    attested: bool = False


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """A strategic finding as one reader may see it (``data``: the finding's JSON form for
    that reader, already filtered). ``notice`` is the ``party/id@version`` ref of the notice
    whose check produced it; ``message_id`` the hotline message that delivered it;
    ``other_ref`` the ref of the other object (a notice or a protected area; None for a
    zone), kept so the service knows when the finding is superseded, never shown to the
    reader."""

    id: str
    reader: str
    notice: str
    data: dict[str, Any]
    created_s: float
    message_id: str
    other_ref: str | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A hotline message. ``content`` is the :class:`~skyparley.domain.hotline.MessageContent`
    JSON; ``requires_ack``/``deadline_s`` come from the protocol at sending; ``thread`` is the
    id of the thread's first message; ``about`` names what the message concerns (a notice
    ref, a finding id, a message id), when anything. ``seq`` is assigned by the store when
    the message is committed (0 before), increasing in commit order."""

    id: str
    thread: str
    sender: str
    to: tuple[str, ...]
    kind: str
    content: dict[str, Any]
    sent_s: float
    requires_ack: bool
    deadline_s: float | None
    entry_hash: str
    ledger_index: int
    reply_to: str | None = None
    about: str | None = None
    attested: bool = False
    seq: int = 0


@dataclass(frozen=True, slots=True)
class AckRecord:
    """``party`` acknowledged message ``message_id`` at ``acked_s`` (the log's time)."""

    message_id: str
    party: str
    acked_s: float
    entry_hash: str
    ledger_index: int
    attested: bool = False


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    """Message ``message_id``, unacknowledged by ``party``, reached ladder ``level`` (from
    1) named ``level_name`` at ``at_s``. At most one per ``(message_id, party, level)``."""

    message_id: str
    party: str
    level: int
    level_name: str
    at_s: float
    entry_hash: str
    ledger_index: int


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """A loss of separation (``kind`` ``los``) or a protected-area intrusion
    (``protected_area``), recorded once it is over.

    ``parties`` are the parties concerned (each may read it, as the service filters);
    ``a``/``b`` the aircraft (for an intrusion, the aircraft and the area's ref). The minimum
    horizontal and vertical separations and when each was reached summarise it; ``data``
    holds the evidence (both tracks around it, the alerts and acknowledgements before it,
    the closest point). ``entry_hash``/``ledger_index`` name its signed ledger entry.
    """

    id: str
    kind: str
    parties: tuple[str, ...]
    a: str
    b: str
    start_s: float
    end_s: float
    min_hdist_nm: float
    min_hdist_s: float
    min_vdist_ft: float
    min_vdist_s: float
    data: dict[str, Any]
    entry_hash: str
    ledger_index: int


@dataclass(frozen=True, slots=True)
class DeadlineRecord:
    """A pending timer: if ``party`` has not acknowledged ``message_id`` by ``due_s``, the
    message escalates to ``level``. At most one per ``(message_id, party)``."""

    message_id: str
    party: str
    level: int
    due_s: float


@dataclass(frozen=True, slots=True)
class Event:
    """One item of a party's stream. ``cursor`` is assigned by the store when the event is
    committed (0 before); cursors only increase, across every party and across restarts."""

    party: str
    type: str
    data: dict[str, Any]
    at_s: float
    cursor: int = 0


@dataclass
class Changes:
    """Everything one use case writes, committed by :meth:`Store.commit` all or nothing.

    ``notices``, ``protected_areas``, ``findings``, ``messages``, ``acks`` and
    ``escalations`` are inserted (a record that already exists under its key is an error,
    except as said below); ``deadlines`` are set (insert or replace, by
    ``(message_id, party)``), ``cleared_deadlines`` removed; ``events`` appended to the
    parties' streams.
    """

    notices: list[NoticeRecord] = field(default_factory=list)
    protected_areas: list[ProtectedAreaRecord] = field(default_factory=list)
    findings: list[FindingRecord] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    acks: list[AckRecord] = field(default_factory=list)
    escalations: list[EscalationRecord] = field(default_factory=list)
    deadlines: list[DeadlineRecord] = field(default_factory=list)
    cleared_deadlines: list[tuple[str, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    tokens: list[TokenRecord] = field(default_factory=list)
    revoked_tokens: list[tuple[str, float]] = field(default_factory=list)
    incidents: list[IncidentRecord] = field(default_factory=list)
