"""The :class:`~skyparley.domain.ports.Store` in memory: the fake for the service's unit tests.

It keeps the whole contract (the suite in ``tests/adapters/test_store_contract.py`` runs
against it as against SQLite): a commit is checked in full before anything changes, so a
conflict leaves nothing written; ``seq`` and cursors start at 1 and only increase; every
read gives the values SQLite would give back (notices and areas through their JSON forms,
free data through JSON, see :mod:`skyparley.adapters._store_records`). One lock guards
everything; nothing survives the process.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from skyparley.adapters._store_records import (
    ack_key,
    area_from_json,
    area_json,
    area_key,
    check_page,
    conflict,
    escalation_key,
    finding_key,
    message_key,
    normalised,
    notice_from_json,
    notice_json,
    notice_key,
    token_hash_key,
    token_id_key,
    unknown_token,
)
from skyparley.domain.notices import LIVE_STATES
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

__all__ = ["MemoryStore"]

_R = TypeVar("_R")


def _page(keys: list[int], items: list[Any], after: int, limit: int) -> list[Any]:
    """``items`` (ascending by ``keys``) with a key above ``after``, at most ``limit``."""
    start = bisect.bisect_right(keys, after)
    return items[start : start + limit]


class _Versions:
    """The versions of one notice or area, ascending by version."""

    __slots__ = ("records", "versions")

    def __init__(self) -> None:
        self.versions: list[int] = []
        self.records: list[Any] = []

    def add(self, version: int, record: object) -> None:
        at = bisect.bisect_left(self.versions, version)
        self.versions.insert(at, version)
        self.records.insert(at, record)

    def get(self, version: int | None) -> Any:
        if version is None:
            return self.records[-1]
        at = bisect.bisect_left(self.versions, version)
        if at < len(self.versions) and self.versions[at] == version:
            return self.records[at]
        return None


class _Stream:
    """Items ascending by an integer key (seq or cursor), for paging."""

    __slots__ = ("items", "keys")

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.items: list[Any] = []

    def append(self, key: int, item: object) -> None:
        self.keys.append(key)
        self.items.append(item)


class MemoryStore:
    """A :class:`~skyparley.domain.ports.Store` held in memory, safe to share between threads.

    Use as a context manager, or call :meth:`close` (after which every call is refused, as
    with SQLite).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._seq = 0
        self._cursor = 0
        self._order = itertools.count()  # insertion order, to break ties of equal times
        self._tokens: dict[str, tuple[int, TokenRecord]] = {}
        self._token_ids_by_hash: dict[str, str] = {}
        self._notices: dict[tuple[str, str], _Versions] = {}
        self._areas: dict[tuple[str, str], _Versions] = {}
        self._finding_keys: set[tuple[str, str]] = set()
        self._findings: defaultdict[str, list[FindingRecord]] = defaultdict(list)
        self._messages: dict[str, MessageRecord] = {}
        self._inbox: defaultdict[str, _Stream] = defaultdict(_Stream)
        self._sent: defaultdict[str, _Stream] = defaultdict(_Stream)
        self._threads: defaultdict[str, list[MessageRecord]] = defaultdict(list)
        self._acks: defaultdict[str, list[tuple[float, int, AckRecord]]] = defaultdict(list)
        self._ack_keys: set[tuple[str, str]] = set()
        self._escalations: defaultdict[str, list[tuple[float, int, int, EscalationRecord]]] = (
            defaultdict(list)
        )
        self._escalation_keys: set[tuple[str, str, int]] = set()
        self._deadlines: dict[tuple[str, str], DeadlineRecord] = {}
        self._events: defaultdict[str, _Stream] = defaultdict(_Stream)
        self._incidents: dict[str, IncidentRecord] = {}

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store; later calls raise :class:`~skyparley.errors.SkyparleyError`."""
        with self._lock:
            self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise SkyparleyError("the memory store is closed")

    # ------------------------------------------------------------------ writes

    def commit(self, changes: Changes) -> Committed:
        """Write everything in ``changes`` at once, or nothing (see the port)."""
        # Everything that can fail happens before the first change: the stored forms ...
        notices = [
            dataclasses.replace(r, notice=notice_from_json(notice_json(r))) for r in changes.notices
        ]
        areas = [
            dataclasses.replace(r, area=area_from_json(area_json(r)))
            for r in changes.protected_areas
        ]
        findings = [dataclasses.replace(r, data=normalised(r.data)) for r in changes.findings]
        messages = [
            dataclasses.replace(r, to=tuple(r.to), content=normalised(r.content))
            for r in changes.messages
        ]
        events = [dataclasses.replace(e, data=normalised(e.data)) for e in changes.events]
        incidents = [
            dataclasses.replace(r, parties=tuple(r.parties), data=normalised(r.data))
            for r in changes.incidents
        ]
        changes = dataclasses.replace(changes, incidents=incidents)
        with self._lock:
            self._check_open()
            # ... then the keys, against the store and within the commit.
            self._check_keys(changes, notices, areas, findings, messages)
            return self._apply(changes, notices, areas, findings, messages, events)

    def _check_keys(
        self,
        changes: Changes,
        notices: list[NoticeRecord],
        areas: list[ProtectedAreaRecord],
        findings: list[FindingRecord],
        messages: list[MessageRecord],
    ) -> None:
        token_ids = set(self._tokens)
        token_hashes = set(self._token_ids_by_hash)
        for t in changes.tokens:
            if t.id in token_ids:
                raise conflict("tokens", token_id_key(t))
            if t.token_sha256 in token_hashes:
                raise conflict("tokens", token_hash_key(t))
            token_ids.add(t.id)
            token_hashes.add(t.token_sha256)
        for token_id, _ in changes.revoked_tokens:
            if token_id not in token_ids:
                raise unknown_token(token_id)
        seen_notices: set[tuple[str, str, int]] = set()
        for n in notices:
            key = (n.notice.party, n.notice.id, n.notice.version)
            held = self._notices.get(key[:2])
            if key in seen_notices or (held is not None and held.get(key[2]) is not None):
                raise conflict("notices", notice_key(n))
            seen_notices.add(key)
        seen_areas: set[tuple[str, str, int]] = set()
        for a in areas:
            key = (a.area.owner, a.area.id, a.area.version)
            held = self._areas.get(key[:2])
            if key in seen_areas or (held is not None and held.get(key[2]) is not None):
                raise conflict("protected_areas", area_key(a))
            seen_areas.add(key)
        _check_unique(
            "findings", findings, self._finding_keys, lambda f: (f.id, f.reader), finding_key
        )
        _check_unique("messages", messages, set(self._messages), lambda m: m.id, message_key)
        _check_unique(
            "acks", changes.acks, self._ack_keys, lambda a: (a.message_id, a.party), ack_key
        )
        _check_unique(
            "escalations",
            changes.escalations,
            self._escalation_keys,
            lambda e: (e.message_id, e.party, e.level),
            escalation_key,
        )
        _check_unique(
            "incidents",
            changes.incidents,
            set(self._incidents),
            lambda i: i.id,
            lambda i: f"incident {i.id}",
        )

    def _apply(
        self,
        changes: Changes,
        notices: list[NoticeRecord],
        areas: list[ProtectedAreaRecord],
        findings: list[FindingRecord],
        messages: list[MessageRecord],
        events: list[Event],
    ) -> Committed:
        for t in changes.tokens:
            self._tokens[t.id] = (next(self._order), t)
            self._token_ids_by_hash[t.token_sha256] = t.id
        for token_id, revoked_s in changes.revoked_tokens:
            n, t = self._tokens[token_id]
            if t.revoked_s is None:  # a second revocation keeps the first time
                self._tokens[token_id] = (n, dataclasses.replace(t, revoked_s=revoked_s))
        for nr in notices:
            self._notices.setdefault((nr.notice.party, nr.notice.id), _Versions()).add(
                nr.notice.version, nr
            )
        for ar in areas:
            self._areas.setdefault((ar.area.owner, ar.area.id), _Versions()).add(
                ar.area.version, ar
            )
        for f in findings:
            self._finding_keys.add((f.id, f.reader))
            self._findings[f.reader].append(f)
        committed_messages = []
        for m in messages:
            self._seq += 1
            m = dataclasses.replace(m, seq=self._seq)  # noqa: PLW2901 (the stored form)
            committed_messages.append(m)
            self._messages[m.id] = m
            for party in dict.fromkeys(m.to):
                self._inbox[party].append(m.seq, m)
            self._sent[m.sender].append(m.seq, m)
            self._threads[m.thread].append(m)
        for a in changes.acks:
            self._ack_keys.add((a.message_id, a.party))
            self._acks[a.message_id].append((a.acked_s, next(self._order), a))
        for esc in changes.escalations:
            self._escalation_keys.add((esc.message_id, esc.party, esc.level))
            self._escalations[esc.message_id].append((esc.at_s, esc.level, next(self._order), esc))
        # Clears first, then sets: a deadline both cleared and set in one commit stays set.
        for key in changes.cleared_deadlines:
            self._deadlines.pop((key[0], key[1]), None)
        for d in changes.deadlines:
            self._deadlines[(d.message_id, d.party)] = d
        for inc in changes.incidents:
            self._incidents[inc.id] = inc
        committed_events = []
        for e in events:
            self._cursor += 1
            e = dataclasses.replace(e, cursor=self._cursor)  # noqa: PLW2901 (the stored form)
            committed_events.append(e)
            self._events[e.party].append(e.cursor, e)
        return Committed(messages=tuple(committed_messages), events=tuple(committed_events))

    # ------------------------------------------------------------------ tokens

    def token_by_sha256(self, token_sha256: str) -> TokenRecord | None:
        """The token with that hash (revoked ones included), or None."""
        with self._lock:
            self._check_open()
            token_id = self._token_ids_by_hash.get(token_sha256)
            return None if token_id is None else self._tokens[token_id][1]

    def tokens(self, party: str | None = None) -> list[TokenRecord]:
        """Every token, or a party's, by creation time."""
        with self._lock:
            self._check_open()
            rows = [v for v in self._tokens.values() if party is None or v[1].party == party]
        return [t for _, t in sorted(rows, key=lambda v: (v[1].created_s, v[0]))]

    # ------------------------------------------------------------------ notices and areas

    def notice(self, party: str, notice_id: str, version: int | None = None) -> NoticeRecord | None:
        """A version of a notice (the latest when ``version`` is None), or None."""
        with self._lock:
            self._check_open()
            held = self._notices.get((party, notice_id))
            return None if held is None else held.get(version)

    def notices(self, party: str | None = None, *, live_only: bool = False) -> list[NoticeRecord]:
        """The latest version of every notice, by party then id; ``live_only``: planned or
        active ones."""
        with self._lock:
            self._check_open()
            latest = [
                (key, held.get(None))
                for key, held in self._notices.items()
                if party is None or key[0] == party
            ]
        return [
            r
            for _, r in sorted(latest, key=lambda kr: kr[0])
            if not live_only or r.notice.state in LIVE_STATES
        ]

    def notice_versions(self, party: str, notice_id: str) -> list[NoticeRecord]:
        """Every version of one notice, ascending."""
        with self._lock:
            self._check_open()
            held = self._notices.get((party, notice_id))
            return [] if held is None else list(held.records)

    def protected_area(
        self, owner: str, area_id: str, version: int | None = None
    ) -> ProtectedAreaRecord | None:
        """A version of a protected area (the latest when ``version`` is None), or None."""
        with self._lock:
            self._check_open()
            held = self._areas.get((owner, area_id))
            return None if held is None else held.get(version)

    def protected_areas(self, owner: str | None = None) -> list[ProtectedAreaRecord]:
        """The latest version of every protected area, by owner then id."""
        with self._lock:
            self._check_open()
            latest = [
                (key, held.get(None))
                for key, held in self._areas.items()
                if owner is None or key[0] == owner
            ]
        return [r for _, r in sorted(latest, key=lambda kr: kr[0])]

    # ------------------------------------------------------------------ findings

    def findings(self, reader: str) -> list[FindingRecord]:
        """Every finding addressed to ``reader``, in commit order."""
        with self._lock:
            self._check_open()
            return list(self._findings.get(reader, ()))

    # ------------------------------------------------------------------ hotline

    def message(self, message_id: str) -> MessageRecord | None:
        """One message, or None."""
        with self._lock:
            self._check_open()
            return self._messages.get(message_id)

    def inbox(self, party: str, *, after: int = 0, limit: int = 100) -> list[MessageRecord]:
        """Messages addressed to ``party`` with ``seq > after``, ascending, at most ``limit``."""
        check_page(after, limit)
        with self._lock:
            self._check_open()
            stream = self._inbox.get(party)
            return [] if stream is None else _page(stream.keys, stream.items, after, limit)

    def sent(self, party: str, *, after: int = 0, limit: int = 100) -> list[MessageRecord]:
        """Messages sent by ``party`` with ``seq > after``, ascending, at most ``limit``."""
        check_page(after, limit)
        with self._lock:
            self._check_open()
            stream = self._sent.get(party)
            return [] if stream is None else _page(stream.keys, stream.items, after, limit)

    def thread(self, thread_id: str) -> list[MessageRecord]:
        """The messages of a thread, ascending by seq."""
        with self._lock:
            self._check_open()
            return list(self._threads.get(thread_id, ()))

    def acks(self, message_id: str) -> list[AckRecord]:
        """The acknowledgements of a message, by time (then commit order)."""
        with self._lock:
            self._check_open()
            rows = list(self._acks.get(message_id, ()))
        return [a for *_, a in sorted(rows, key=lambda r: r[:2])]

    def escalations(self, message_id: str) -> list[EscalationRecord]:
        """The escalations of a message, by time then level (then commit order)."""
        with self._lock:
            self._check_open()
            rows = list(self._escalations.get(message_id, ()))
        return [e for *_, e in sorted(rows, key=lambda r: r[:3])]

    def deadline(self, message_id: str, party: str) -> DeadlineRecord | None:
        """The pending deadline of ``party`` on a message, or None."""
        with self._lock:
            self._check_open()
            return self._deadlines.get((message_id, party))

    def due_deadlines(self, now_s: float, *, limit: int = 100) -> list[DeadlineRecord]:
        """Pending deadlines with ``due_s <= now_s``, earliest first (then by message id and
        party)."""
        check_page(0, limit)
        with self._lock:
            self._check_open()
            due = [d for d in self._deadlines.values() if d.due_s <= now_s]
        due.sort(key=lambda d: (d.due_s, d.message_id, d.party))
        return due[:limit]

    def next_deadline_s(self) -> float | None:
        """The earliest pending ``due_s``, or None when nothing is pending."""
        with self._lock:
            self._check_open()
            return min((d.due_s for d in self._deadlines.values()), default=None)

    # ------------------------------------------------------------------ streams

    def incident(self, incident_id: str) -> IncidentRecord | None:
        """One incident, or None."""
        with self._lock:
            self._check_open()
            return self._incidents.get(incident_id)

    def incidents(self, party: str | None = None) -> list[IncidentRecord]:
        """Every incident (or those concerning ``party``), by start time then id."""
        with self._lock:
            self._check_open()
            out = [i for i in self._incidents.values() if party is None or party in i.parties]
        return sorted(out, key=lambda i: (i.start_s, i.id))

    def events(self, party: str, *, after: int = 0, limit: int = 500) -> list[Event]:
        """``party``'s events with ``cursor > after``, ascending, at most ``limit``."""
        check_page(after, limit)
        with self._lock:
            self._check_open()
            stream = self._events.get(party)
            return [] if stream is None else _page(stream.keys, stream.items, after, limit)

    def last_cursor(self) -> int:
        """The largest cursor committed (0 when none)."""
        with self._lock:
            self._check_open()
            return self._cursor


def _check_unique(
    field: str,
    records: Sequence[_R],
    held: AbstractSet[Hashable],
    key: Callable[[_R], Hashable],
    name: Callable[[_R], str],
) -> None:
    """Raise the conflict of the first record whose key is held or repeated in ``records``."""
    seen: set[Hashable] = set()
    for r in records:
        k = key(r)
        if k in held or k in seen:
            raise conflict(field, name(r))
        seen.add(k)
