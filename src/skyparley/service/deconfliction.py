"""The use cases of the deconfliction service: notices, protected areas, the hotline.

:class:`Service` is what the HTTP API, the CLI and the tests drive. It holds no HTTP: every
method takes the authenticated :class:`~skyparley.service.auth.Principal` and plain values,
and returns JSON-ready dicts built for that principal's party alone (need-to-know is decided
here, once, for every way in).

Each write is one use case, done under the service's lock, in this order:

1. validate the request (an :class:`~skyparley.errors.InputError` names the field);
2. log the party's signed statement (or the service's attestation of it) in the ledger;
3. compute the consequences (strategic findings, hotline messages, deadlines);
4. log the service's own statements (findings, escalations) in the ledger;
5. commit every record and every stream event to the store in one transaction;
6. wake the parties' live streams.

A crash between 2 and 5 leaves ledger entries whose records are missing; the retry (same
idempotency key) finds the entries again and completes the records, so nothing is logged
twice. Deadlines are rows in the store: a restart re-arms them by reading them back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from skyparley.domain.hotline import (
    PARTY_KINDS,
    MessageContent,
    ack_rule,
    escalation_due,
)
from skyparley.domain.ledger.checkpoint import Checkpoint
from skyparley.domain.ledger.entry import JSONValue
from skyparley.domain.ledger.keys import SigningKey
from skyparley.domain.ledger.merkle import leaf_hash
from skyparley.domain.ledger.receipt import Receipt
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.ports import Clock, LedgerStore, Store
from skyparley.domain.protocol import Protocol as Agreement
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
)
from skyparley.domain.statements import (
    Signature,
    ack_body,
    area_body,
    attested_body,
    content_sha256,
    message_body,
    notice_body,
)
from skyparley.domain.strategic import Finding, check_notice
from skyparley.domain.strategic_index import StrategicIndex
from skyparley.domain.times import format_time
from skyparley.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from skyparley.geo.areas import to_geojson
from skyparley.service.auth import Principal, require
from skyparley.service.hub import EventHub
from skyparley.service.signer import Logged, ServiceSigner

__all__ = ["Announcement", "Rendered", "Renderer", "Service"]

log = logging.getLogger("skyparley.service")

_WITHHELD = "-"


class Rendered(Protocol):
    """A message as rendered for one reader."""

    @property
    def lang(self) -> str:
        """The language it is shown in."""
        ...

    @property
    def text(self) -> str:
        """The text the reader reads."""
        ...

    @property
    def translated(self) -> bool:
        """Whether it was rendered from a template (False: free text as written)."""
        ...

    @property
    def source_lang(self) -> str | None:
        """The language free text was written in (None for a template)."""
        ...


class Renderer(Protocol):
    """Renders message content in a language (the message catalogs)."""

    def render(self, content: MessageContent, lang: str) -> Rendered:
        """``content`` as a reader of ``lang`` reads it."""
        ...


@dataclass(frozen=True)
class Announcement:
    """One thing the service says: a ledger entry of ``kind`` with ``body`` (``to`` is
    added), and with ``content`` a hotline message to ``to`` as well."""

    kind: str
    to: tuple[str, ...]
    body: dict[str, JSONValue]
    idem: str
    content: MessageContent | None = None
    about: str | None = None


@dataclass(frozen=True, slots=True)
class _Ref:
    party: str
    id: str
    version: int

    @classmethod
    def parse(cls, ref: str) -> _Ref:
        head, _, version = ref.rpartition("@")
        party, _, oid = head.partition("/")
        return cls(party, oid, int(version))


def _ref_text(subject: dict[str, Any]) -> str:
    return f"{subject['party']}/{subject['id']}@{subject['version']}"


def _message_id(entry_hash: str) -> str:
    return "m-" + entry_hash[:24]


def _end_s(notice: OperationNotice) -> float:
    return max(v.window.end_s for v in notice.volumes)


class Service:
    """The deconfliction service over a protocol, a store and a ledger (see the module).

    ``ledger``'s keyring must hold the parties' keys and ``service_key``'s verifier (under
    the key's name, the service's party id in the log). ``clock`` gives every time the
    service records. ``renderer`` renders structured messages per reader. ``hub`` wakes
    live streams (one is made when not given).
    """

    def __init__(
        self,
        *,
        protocol: Agreement,
        store: Store,
        ledger: LedgerStore,
        service_key: SigningKey,
        clock: Clock,
        renderer: Renderer,
        hub: EventHub | None = None,
    ) -> None:
        self.protocol = protocol
        self.store = store
        self.ledger = ledger
        self.clock = clock
        self.renderer = renderer
        self.hub = hub if hub is not None else EventHub()
        self.signer = ServiceSigner(ledger, service_key, clock)
        self._parties = {p.id: p for p in protocol.parties}
        if self.signer.party in self._parties:
            raise InputError(
                field="service_key",
                reason=f"the service key's name {self.signer.party!r} is a party id; the "
                "service needs a name of its own",
            )
        self._lock = threading.RLock()
        self._about_parties: dict[str, set[str]] = {}  # alert id -> parties told of it
        self._index = StrategicIndex(protocol.strategic)
        for n in store.notices(live_only=True):
            self._index.upsert(n.notice)
        for a in store.protected_areas():
            self._index.upsert(a.area)
        self.counters: dict[str, int] = {
            "notices_filed": 0,
            "draft_checks": 0,
            "protected_areas_declared": 0,
            "findings": 0,
            "messages_sent": 0,
            "acks": 0,
            "escalations": 0,
        }

    @property
    def party_id(self) -> str:
        """The service's own party id in the ledger."""
        return self.signer.party

    # ================================================================== helpers

    def _lang(self, party: str) -> str:
        p = self._parties.get(party)
        return p.language if p is not None else "en"

    def _others(self, party: str) -> list[str]:
        return sorted(p for p in self._parties if p != party)

    def _logged_party_statement(
        self,
        principal: Principal,
        kind: str,
        body: dict[str, JSONValue],
        sig: Signature | None,
        *,
        idem: str,
    ) -> tuple[Logged, bool]:
        """Log what the principal's party says: its own signed entry, or the service's
        attestation of it. Returns the logged entry and whether it is attested."""
        logged, attested, _ = self._log_with(principal, kind, body, sig, idem=idem, items=())
        return logged, attested

    def _log_with(
        self,
        principal: Principal,
        kind: str,
        body: dict[str, JSONValue],
        sig: Signature | None,
        *,
        idem: str,
        items: Sequence[tuple[str, JSONValue, str]],
    ) -> tuple[Logged, bool, list[Logged]]:
        """Log the principal's party's statement (signed, or attested by the service) and
        the service's ``items`` about it in one group commit; returns the statement's entry,
        whether it is attested, and the items' entries."""
        if sig is not None:
            signed = sig.entry(
                log_id=self.signer.log_id, party=principal.party, kind=kind, body=body
            )
            party, logged = self.signer.append_together(signed, items)
            assert party is not None
            return party, False, logged
        attested = attested_body(principal.party, kind, body)
        _, logged = self.signer.append_together(
            None, [(kind, attested, f"att:{principal.party}:{idem}"), *items]
        )
        return logged[0], True, logged[1:]

    def _publish(self, events: Sequence[Event]) -> None:
        self.hub.publish(events)

    def _receipt(self, logged: Logged) -> dict[str, Any] | None:
        return None if logged.receipt is None else logged.receipt.to_json()

    # ================================================================== views

    def message_view(
        self,
        m: MessageRecord,
        reader: str,
        *,
        full: bool = False,
        content: MessageContent | None = None,
    ) -> dict[str, Any]:
        """A message as ``reader`` sees it, rendered in the reader's language (``content``:
        ``m.content`` already read, when the caller holds it)."""
        if content is None:
            content = MessageContent.from_dict(m.content)
        r = self.renderer.render(content, self._lang(reader))
        out: dict[str, Any] = {
            "id": m.id,
            "thread": m.thread,
            "from": m.sender,
            "to": list(m.to),
            "kind": m.kind,
            "content": m.content,
            "rendered": {
                "lang": r.lang,
                "text": r.text,
                "translated": r.translated,
                "source_lang": r.source_lang,
                "marker": getattr(r, "marker", None),
            },
            "sent": format_time(m.sent_s),
            "requires_ack": m.requires_ack,
            "deadline": (
                format_time(m.sent_s + m.deadline_s)
                if m.requires_ack and m.deadline_s is not None
                else None
            ),
            "reply_to": m.reply_to,
            "about": m.about,
            "entry_hash": m.entry_hash,
            "ledger_index": m.ledger_index,
            "attested": m.attested,
        }
        if m.seq:
            out["seq"] = m.seq  # the inbox cursor (assigned when the message was committed)
        if full:
            # The sender sees every addressee's ack and escalation; an addressee sees its
            # own only (each goes to the sender and that addressee, nobody else).
            def told(party: str) -> bool:
                return reader in (m.sender, party)

            out["acks"] = [
                {"party": a.party, "at": format_time(a.acked_s), "entry_hash": a.entry_hash}
                for a in self.store.acks(m.id)
                if told(a.party)
            ]
            out["escalations"] = [
                {
                    "party": e.party,
                    "level": e.level,
                    "level_name": e.level_name,
                    "at": format_time(e.at_s),
                }
                for e in self.store.escalations(m.id)
                if told(e.party)
            ]
        return out

    def _notice_view(
        self,
        rec: NoticeRecord,
        *,
        findings: bool = True,
        by_subject: dict[str, list[FindingRecord]] | None = None,
    ) -> dict[str, Any]:
        """A notice as its owner sees it, with its current findings (``by_subject``: the
        owner's findings grouped by :func:`_ref_text` of their subject, when already read)."""
        out: dict[str, Any] = {
            "notice": rec.notice.to_dict(),
            "recorded": format_time(rec.recorded_s),
            "entry_hash": rec.entry_hash,
            "ledger_index": rec.ledger_index,
            "attested": rec.attested,
        }
        if findings:
            if by_subject is None:
                by_subject = self._findings_by_subject(rec.notice.party)
            out["findings"] = [
                f.data for f in by_subject.get(rec.notice.ref, []) if self._current(f)
            ]
        return out

    def _findings_by_subject(self, reader: str) -> dict[str, list[FindingRecord]]:
        """``reader``'s findings about its notices, by the notice's ref."""
        out: dict[str, list[FindingRecord]] = {}
        for f in self.store.findings(reader):
            if f.data["subject"]["type"] == "operation_notice":
                out.setdefault(_ref_text(f.data["subject"]), []).append(f)
        return out

    def _current(self, f: FindingRecord) -> bool:
        """Whether every object a finding is about is still the latest (and live) version."""
        refs = [f.notice, _ref_text(f.data["subject"])]
        if f.other_ref is not None:
            refs.append(f.other_ref)
        types = {f.notice: "operation_notice"}
        types[_ref_text(f.data["subject"])] = f.data["subject"]["type"]
        for ref in refs:
            r = _Ref.parse(ref)
            kind = types.get(ref)
            if kind is None:
                kind = (
                    "operation_notice"
                    if self.store.notice(r.party, r.id) is not None
                    else "protected_area"
                )
            if kind == "operation_notice":
                latest_n = self.store.notice(r.party, r.id)
                if latest_n is None or latest_n.notice.version != r.version:
                    return False
                if not latest_n.notice.is_live:
                    return False
            elif kind == "protected_area":
                latest_a = self.store.protected_area(r.party, r.id)
                if latest_a is None or latest_a.area.version != r.version:
                    return False
        return True

    # ================================================================== reads

    def protocol_view(self, principal: Principal) -> dict[str, Any]:
        """What every party may read of the protocol: parties, rules, zones, sharing."""
        require(principal, "viewer")
        p = self.protocol
        return {
            "id": p.id,
            "version": p.version,
            "title": p.title,
            "content_hash": p.content_hash,
            "log_id": self.signer.log_id,
            "service_party": self.party_id,
            "parties": [
                {
                    "id": x.id,
                    "name": x.name,
                    "language": x.language,
                    "public_key": x.public_key.to_text(),
                }
                for x in p.parties
            ],
            "messages": {
                k: {"requires_ack": r.requires_ack, "deadline_s": r.deadline_s}
                for k, r in p.messages.items()
            },
            "escalation": [
                {"level": k + 1, "name": e.name, "deadline_s": e.deadline_s, "roles": list(e.roles)}
                for k, e in enumerate(p.escalation)
            ],
            "sharing": {
                "tracks": p.sharing.tracks,
                "tracks_within_nm": p.sharing.tracks_within_nm,
                "volumes": p.sharing.volumes,
                "protected_areas": p.sharing.protected_areas,
            },
        }

    def zones(self, principal: Principal) -> list[dict[str, Any]]:
        """The protocol's zones and lines with their rules (every party sees them)."""
        require(principal, "viewer")
        out = []
        for z in self.protocol.zones:
            item: dict[str, Any] = {
                "id": z.id,
                "name": z.name,
                "kind": z.kind,
                "rules": {
                    "notice_hours": z.rules.notice_hours,
                    "closed_to": list(z.rules.closed_to),
                    "owner": z.rules.owner,
                    "side": z.rules.side,
                },
            }
            if z.area is not None:
                item["geometry"] = to_geojson(z.area)
            else:
                item["geometry"] = {
                    "type": "LineString",
                    "coordinates": [[lon, lat] for lon, lat in z.line],
                }
            out.append(item)
        return out

    def head(self, principal: Principal) -> dict[str, Any]:
        """What a client needs to sign its next statement: the log id and its chain head
        (and the caller's party and role, so that a client offers only what it may do)."""
        require(principal, "viewer")
        return {
            "log_id": self.signer.log_id,
            "party": principal.party,
            "role": principal.role,
            "prev": self.ledger.head(principal.party),
            "size": self.ledger.size(),
        }

    def notices(
        self, principal: Principal, *, party: str | None = None, live_only: bool = False
    ) -> list[dict[str, Any]]:
        """The latest version of each of the caller's notices; another party's only where
        the sharing policy shares whole volumes (``volumes: all``)."""
        require(principal, "viewer")
        owner = party or principal.party
        if owner != principal.party:
            self.protocol.party(owner)
            if self.protocol.sharing.volumes != "all":
                raise PermissionDeniedError(
                    field="party",
                    reason="the protocol shares other parties' volumes only where they "
                    "conflict with your own: see your findings",
                )
        own = owner == principal.party
        by_subject = self._findings_by_subject(owner) if own else {}
        return [
            self._notice_view(r, findings=own, by_subject=by_subject)
            for r in self.store.notices(owner, live_only=live_only)
        ]

    def notice(
        self, principal: Principal, notice_id: str, version: int | None = None
    ) -> dict[str, Any]:
        """One of the caller's notices (latest version, or ``version``) with its findings."""
        require(principal, "viewer")
        rec = self.store.notice(principal.party, notice_id, version)
        if rec is None:
            raise NotFoundError(
                field="id",
                reason=f"{principal.party} has no notice {notice_id!r}"
                + ("" if version is None else f" version {version}"),
            )
        out = self._notice_view(rec)
        out["versions"] = [
            r.notice.version for r in self.store.notice_versions(principal.party, notice_id)
        ]
        return out

    def findings(self, principal: Principal, *, current_only: bool = True) -> list[dict[str, Any]]:
        """The findings addressed to the caller (current ones only, by default)."""
        require(principal, "viewer")
        return [
            {
                **f.data,
                "current": self._current(f),
                "message_id": f.message_id,
                "created": format_time(f.created_s),
            }
            for f in self.store.findings(principal.party)
            if not current_only or self._current(f)
        ]

    def protected_areas(self, principal: Principal) -> list[dict[str, Any]]:
        """The caller's protected areas, and other parties' whose disclosure is public."""
        require(principal, "viewer")
        default = self.protocol.sharing.protected_areas
        out = []
        for rec in self.store.protected_areas():
            a = rec.area
            if a.owner == principal.party:
                out.append(
                    {
                        "area": a.to_dict(),
                        "entry_hash": rec.entry_hash,
                        "ledger_index": rec.ledger_index,
                        "own": True,
                    }
                )
            elif a.disclosure_under(default) == "public":
                out.append({"area": a.to_dict(), "own": False})
        return out

    def _visible_message(self, principal: Principal, message_id: str) -> MessageRecord:
        m = self.store.message(message_id)
        if m is None or (principal.party != m.sender and principal.party not in m.to):
            raise NotFoundError(field="message_id", reason=f"no message {message_id!r} for you")
        return m

    def message(self, principal: Principal, message_id: str) -> dict[str, Any]:
        """One message the caller sent or received, with its acks and escalations."""
        require(principal, "viewer")
        return self.message_view(
            self._visible_message(principal, message_id), principal.party, full=True
        )

    def inbox(
        self, principal: Principal, *, after: int = 0, limit: int = 100, sent: bool = False
    ) -> dict[str, Any]:
        """Messages addressed to the caller (or sent by it) after cursor ``after``."""
        require(principal, "viewer")
        if after < 0:
            raise InputError(field="after", reason="must be 0 or more")
        if not 1 <= limit <= 1000:
            raise InputError(field="limit", reason="must be 1 to 1000")
        read = self.store.sent if sent else self.store.inbox
        msgs = read(principal.party, after=after, limit=limit)
        return {
            "messages": [self.message_view(m, principal.party, full=True) for m in msgs],
            "cursor": msgs[-1].seq if msgs else after,
        }

    def thread(self, principal: Principal, thread_id: str) -> list[dict[str, Any]]:
        """The messages of a thread the caller may see."""
        require(principal, "viewer")
        msgs = [
            m
            for m in self.store.thread(thread_id)
            if principal.party == m.sender or principal.party in m.to
        ]
        if not msgs:
            raise NotFoundError(field="thread_id", reason=f"no thread {thread_id!r} for you")
        return [self.message_view(m, principal.party, full=True) for m in msgs]

    def events(self, principal: Principal, *, after: int = 0, limit: int = 500) -> list[Event]:
        """The caller's stream events after cursor ``after``."""
        require(principal, "viewer")
        return self.store.events(principal.party, after=after, limit=limit)

    # ================================================================== notices

    def check_draft(self, principal: Principal, data: object) -> dict[str, Any]:
        """Check a notice before filing it: the findings its party would get, nothing
        stored, nothing in the ledger, nobody else told (the console shows them while
        drawing).

        A check shows the same overlaps with other parties' volumes a filing would, but
        leaves no statement behind: so it takes the role that may file (``operator``), and
        each one is counted and written to the service's log, with what it found.
        """
        require(principal, "operator")
        notice = OperationNotice.from_dict(data, field="notice")
        if notice.party != principal.party:
            raise PermissionDeniedError(
                field="notice.party",
                reason=f"a token of {principal.party} checks notices of {principal.party} only",
            )
        with self._lock:
            findings = check_notice(
                notice,
                self.protocol,
                candidates=self._index.candidates,
                now_s=self.clock.now_s(),
            )
        own = [f.to_dict() for f in findings if f.reader == notice.party]
        with self._lock:  # the counters are updated under the lock, as every use case does
            self.counters["draft_checks"] += 1
        log.info(
            "draft check by %s (token %s): %d findings%s",
            principal.party,
            principal.token_id,
            len(own),
            "".join(
                sorted({f" [{f.kind} {f.other}]" for f in findings if f.reader == notice.party})
            ),
        )
        return {"notice": notice.to_dict(), "findings": own, "clear": not own}

    def file_notice(
        self,
        principal: Principal,
        data: object,
        signature: Signature | None = None,
        *,
        expect_id: str | None = None,
        new: bool = False,
    ) -> dict[str, Any]:
        """File a notice version (``new``: the first version of a new notice; ``expect_id``:
        a new version of that notice). Returns the stored notice, the receipt of the party's
        statement and the findings for the filing party."""
        require(principal, "operator")
        notice = OperationNotice.from_dict(data, field="notice")
        if notice.party != principal.party:
            raise PermissionDeniedError(
                field="notice.party",
                reason=f"a token of {principal.party} files notices of {principal.party} only",
            )
        if expect_id is not None and notice.id != expect_id:
            raise InputError(
                field="notice.id", reason=f"is {notice.id!r}, the path names {expect_id!r}"
            )
        with self._lock:
            return self._file_notice(principal, notice, signature, new=new)

    def cancel_notice(
        self, principal: Principal, notice_id: str, signature: Signature | None = None
    ) -> dict[str, Any]:
        """File the cancelled version of a notice: the latest with ``state`` cancelled and
        the next version number (the statement a signing client builds the same way)."""
        require(principal, "operator")
        with self._lock:
            latest = self.store.notice(principal.party, notice_id)
            if latest is None:
                raise NotFoundError(
                    field="id", reason=f"{principal.party} has no notice {notice_id!r}"
                )
            if latest.notice.state == "cancelled":
                raise ConflictError(field="state", reason=f"{latest.notice.ref} is cancelled")
            return self._file_notice(principal, cancelled_version(latest.notice), signature)

    def _file_notice(
        self,
        principal: Principal,
        notice: OperationNotice,
        signature: Signature | None,
        *,
        new: bool = False,
    ) -> dict[str, Any]:
        latest = self.store.notice(notice.party, notice.id)
        body = notice_body(notice, self._others(notice.party))
        if latest is not None and latest.notice.version >= notice.version:
            same = self.store.notice(notice.party, notice.id, notice.version)
            if same is not None and content_sha256(same.notice.to_dict()) == body["notice_sha256"]:
                return self._notice_view(same) | {"receipt": None, "replayed": True}
            raise ConflictError(
                field="notice.version",
                reason=f"{notice.party}/{notice.id} is at version {latest.notice.version}; "
                f"file version {latest.notice.version + 1}",
            )
        if new and latest is not None:
            raise ConflictError(
                field="notice.id",
                reason=f"{notice.party} already has notice {notice.id!r}; file a new version",
            )
        expected = 1 if latest is None else latest.notice.version + 1
        if notice.version != expected:
            raise ConflictError(
                field="notice.version", reason=f"must be {expected}, got {notice.version}"
            )
        now = self.clock.now_s()
        findings = check_notice(notice, self.protocol, candidates=self._index.candidates, now_s=now)
        items, prepared = self._finding_items(notice.ref, findings)
        logged, attested, found_logged = self._log_with(
            principal, "notice", body, signature, idem=f"notice:{notice.ref}", items=items
        )
        changes = Changes()
        record = NoticeRecord(notice, now, logged.entry_hash, logged.index, attested)
        changes.notices.append(record)
        # the notice itself is a hotline message to every other party
        rule = ack_rule(self.protocol, "notice")
        template = (
            "notice_cancelled"
            if notice.state == "cancelled"
            else "notice_filed"
            if notice.version == 1
            else "notice_version"
        )
        args: dict[str, str | int | float] = {"party": notice.party, "notice": notice.ref}
        if template != "notice_cancelled":
            args |= {
                "start": format_time(notice.start_s),
                "end": format_time(_end_s(notice)),
                "volumes": len(notice.volumes),
            }
        msg = self._message(
            changes,
            now,
            logged,
            attested,
            sender=notice.party,
            to=self._others(notice.party),
            kind="notice",
            content=MessageContent(template=template, args=args),
            requires_ack=rule.requires_ack,
            deadline_s=rule.deadline_s,
            about=notice.ref,
        )
        self._finding_records(changes, now, notice.ref, findings, prepared, found_logged)
        self._cleared(changes, now, notice, latest)
        own = [data for f, data, _ in prepared if f.reader == notice.party]  # f.to_dict()s
        changes.events.append(
            Event(
                notice.party,
                "notice",
                {
                    "notice": notice.to_dict(),
                    "entry_hash": logged.entry_hash,
                    "ledger_index": logged.index,
                    "findings": own,
                    "message_id": msg.id,
                },
                now,
            )
        )
        self._commit(changes)
        self._index.upsert(notice)
        self.counters["notices_filed"] += 1
        self.counters["findings"] += len(findings)
        return self._notice_view(record, findings=False) | {
            "findings": own,
            "receipt": self._receipt(logged),
            "message_id": msg.id,
            "clear": not own,
        }

    def _finding_items(
        self, producing_ref: str, findings: Sequence[Finding]
    ) -> tuple[list[tuple[str, JSONValue, str]], list[tuple[Finding, dict[str, Any], Any]]]:
        """The service's ledger statement of each finding and reader, and what its message
        and record need."""
        rule = ack_rule(self.protocol, "finding")
        prepared: list[tuple[Finding, dict[str, Any], Any]] = []
        items: list[tuple[str, JSONValue, str]] = []
        for f in findings:
            data = f.to_dict()
            content = self._finding_content(f)
            body: dict[str, JSONValue] = {
                "to": [f.reader],
                "finding": f.id,
                "finding_kind": f.kind,
                "about": producing_ref,
                "content": content.to_dict(),
                "finding_sha256": content_sha256(data),
            }
            if rule.requires_ack and rule.deadline_s is not None:
                body["deadline_s"] = rule.deadline_s
            items.append(("finding", body, f"finding:{f.id}:{f.reader}:{producing_ref}"))
            prepared.append((f, data, content))
        return items, prepared

    def _finding_messages(
        self, changes: Changes, now: float, producing_ref: str, findings: Sequence[Finding]
    ) -> None:
        """One service-signed finding message (and record) per finding and reader."""
        if not findings:
            return
        items, prepared = self._finding_items(producing_ref, findings)
        self._finding_records(
            changes,
            now,
            producing_ref,
            findings,
            prepared,
            self.signer.append_service_many(items),
        )

    def _finding_records(
        self,
        changes: Changes,
        now: float,
        producing_ref: str,
        findings: Sequence[Finding],
        prepared: Sequence[tuple[Finding, dict[str, Any], Any]],
        logged_all: Sequence[Logged],
    ) -> None:
        """The finding messages and records, once their statements are logged."""
        rule = ack_rule(self.protocol, "finding")
        for (f, data, content), logged in zip(prepared, logged_all, strict=True):
            msg = self._message(
                changes,
                now,
                logged,
                False,
                sender=self.party_id,
                to=[f.reader],
                kind="finding",
                content=content,
                requires_ack=rule.requires_ack,
                deadline_s=rule.deadline_s,
                about=f.id,
            )
            changes.findings.append(
                FindingRecord(
                    f.id,
                    f.reader,
                    producing_ref,
                    data,
                    now,
                    msg.id,
                    other_ref=self._other_ref(f, findings),
                )
            )
            changes.events.append(Event(f.reader, "finding", data | {"message_id": msg.id}, now))

    @staticmethod
    def _other_ref(f: Finding, findings: Sequence[Finding]) -> str | None:
        """The ref of the object on the other side of a finding (kept, never shown): the
        subject of the same finding as the other reader sees it (None for a zone)."""
        for g in findings:
            if g.id == f.id and g.reader != f.reader and g.subject.type != "zone":
                return f"{g.subject.party}/{g.subject.id}@{g.subject.version}"
        return None

    def _finding_content(self, f: Finding) -> MessageContent:
        subject = f"{f.subject.party}/{f.subject.id}@{f.subject.version}"
        o = f.overlap
        span: dict[str, str | int | float] = (
            {
                "start": format_time(o.start_s),
                "end": format_time(o.end_s),
                "lower": round(o.lower_ft),
                "upper": round(o.upper_ft),
            }
            if o is not None
            else {"start": _WITHHELD, "end": _WITHHELD, "lower": _WITHHELD, "upper": _WITHHELD}
        )
        if f.kind == "notice_conflict":
            return MessageContent(
                template="finding_notice_conflict",
                args={"other": f.other, "notice": subject, **span},
            )
        if f.kind == "protected_area":
            # the template says "protected area of {other}": give it the owner's id alone
            other = f.other.removeprefix("a protected area of ")
            return MessageContent(
                template="finding_protected_area",
                args={"other": other, "notice": subject, **span},
            )
        if f.kind == "zone_notice":
            zone = next((z for z in self.protocol.zones if z.id == f.other), None)
            hours = zone.rules.notice_hours if zone is not None else None
            return MessageContent(
                template="finding_zone_notice",
                args={"zone": f.other, "notice": subject, "hours": hours or 0},
            )
        return MessageContent(
            template="finding_zone_closed", args={"zone": f.other, "notice": subject}
        )

    def _cleared(
        self,
        changes: Changes,
        now: float,
        notice: OperationNotice,
        previous: NoticeRecord | None,
    ) -> None:
        """Tell each reader whose findings on the previous version are gone that they are."""
        if previous is None:
            return
        old_ref = previous.notice.ref
        new_ids = {(f.id, f.reader) for f in changes.findings}
        for party in self._parties:
            gone = [
                f
                for f in self.store.findings(party)
                if (old_ref in (f.notice, f.other_ref) or _ref_text(f.data["subject"]) == old_ref)
                and (f.id, f.reader) not in new_ids
            ]
            if gone:
                changes.events.append(
                    Event(
                        party,
                        "finding_cleared",
                        {
                            "findings": sorted({f.id for f in gone}),
                            "notice": notice.ref if party == notice.party else None,
                        },
                        now,
                    )
                )

    # ================================================================== protected areas

    def declare_area(
        self, principal: Principal, data: object, signature: Signature | None = None
    ) -> dict[str, Any]:
        """Declare (a version of) a protected area; live notices of other parties that
        overlap it get findings, as the area's disclosure rule allows."""
        require(principal, "operator")
        area = ProtectedArea.from_dict(data, field="area")
        if area.owner != principal.party:
            raise PermissionDeniedError(
                field="area.owner",
                reason=f"a token of {principal.party} declares areas of {principal.party} only",
            )
        with self._lock:
            latest = self.store.protected_area(area.owner, area.id)
            body = area_body(area)
            if latest is not None and latest.area.version >= area.version:
                same = self.store.protected_area(area.owner, area.id, area.version)
                if same is not None and content_sha256(same.area.to_dict()) == body["area_sha256"]:
                    return {
                        "area": same.area.to_dict(),
                        "entry_hash": same.entry_hash,
                        "ledger_index": same.ledger_index,
                        "receipt": None,
                        "replayed": True,
                        "findings": [],
                    }
            expected = 1 if latest is None else latest.area.version + 1
            if area.version != expected:
                raise ConflictError(
                    field="area.version", reason=f"must be {expected}, got {area.version}"
                )
            now = self.clock.now_s()
            logged, attested = self._logged_party_statement(
                principal, "protected_area", body, signature, idem=f"area:{area.ref}"
            )
            changes = Changes()
            changes.protected_areas.append(
                ProtectedAreaRecord(area, now, logged.entry_hash, logged.index, attested)
            )
            findings: list[Finding] = []
            for other in self._index.candidates(area.volume):
                if not isinstance(other, OperationNotice) or other.party == area.owner:
                    continue
                found = [
                    f
                    for f in check_notice(other, self.protocol, protected_areas=[area], now_s=now)
                    if f.kind == "protected_area"
                ]
                self._finding_messages(changes, now, other.ref, found)
                findings += found
            own = [f.to_dict() for f in findings if f.reader == area.owner]
            changes.events.append(
                Event(
                    area.owner,
                    "protected_area",
                    {
                        "area": area.to_dict(),
                        "entry_hash": logged.entry_hash,
                        "findings": own,
                    },
                    now,
                )
            )
            self._commit(changes)
            self._index.upsert(area)
            self.counters["protected_areas_declared"] += 1
            self.counters["findings"] += len(findings)
            return {
                "area": area.to_dict(),
                "entry_hash": logged.entry_hash,
                "ledger_index": logged.index,
                "receipt": self._receipt(logged),
                "findings": own,
            }

    # ================================================================== hotline

    def _message(
        self,
        changes: Changes,
        now: float,
        logged: Logged,
        attested: bool,
        *,
        sender: str,
        to: Sequence[str],
        kind: str,
        content: MessageContent,
        requires_ack: bool,
        deadline_s: float | None,
        reply_to: MessageRecord | None = None,
        about: str | None = None,
    ) -> MessageRecord:
        """Add a message, its deadlines and its stream events to ``changes``."""
        mid = _message_id(logged.entry_hash)
        msg = MessageRecord(
            id=mid,
            thread=reply_to.thread if reply_to is not None else mid,
            sender=sender,
            to=tuple(to),
            kind=kind,
            content=content.to_dict(),
            sent_s=now,
            requires_ack=requires_ack,
            deadline_s=deadline_s,
            entry_hash=logged.entry_hash,
            ledger_index=logged.index,
            reply_to=reply_to.id if reply_to is not None else None,
            about=about,
            attested=attested,
        )
        changes.messages.append(msg)
        if requires_ack and deadline_s is not None:
            nxt = escalation_due(self.protocol.escalation, sent_s=now, deadline_s=deadline_s)
            if nxt is not None:
                for party in to:
                    changes.deadlines.append(DeadlineRecord(mid, party, nxt.level, nxt.due_s))
        for party in dict.fromkeys([*to, sender]):
            if party in self._parties:
                view = self.message_view(msg, party, content=content)
                changes.events.append(Event(party, "message", view, now))
        return msg

    def send(
        self,
        principal: Principal,
        *,
        kind: str,
        to: Sequence[str],
        content: object,
        reply_to: str | None = None,
        about: str | None = None,
        signature: Signature | None = None,
    ) -> dict[str, Any]:
        """Send a hotline message from the caller's party."""
        require(principal, "operator")
        if kind not in PARTY_KINDS or kind == "ack":
            allowed = ", ".join(k for k in PARTY_KINDS if k != "ack")
            hint = " (acknowledge with POST /v1/messages/{id}/ack)" if kind == "ack" else ""
            raise InputError(field="kind", reason=f"must be one of {allowed}{hint}")
        parsed = MessageContent.from_dict(content)
        addressees = sorted(set(to))
        if not addressees:
            raise InputError(field="to", reason="name at least one party")
        for k, party in enumerate(addressees):
            if party not in self._parties:
                raise InputError(field=f"to[{k}]", reason=f"{party!r} is not a party")
            if party == principal.party:
                raise InputError(field=f"to[{k}]", reason="a party does not message itself")
        if about is not None and (len(about) > 200 or not about.isprintable()):
            raise InputError(field="about", reason="must be at most 200 printable characters")
        with self._lock:
            parent = None
            if reply_to is not None:
                parent = self._visible_message(principal, reply_to)
            body = message_body(
                addressees, parsed, reply_to=parent.entry_hash if parent else None, about=about
            )
            idem = signature.idem if signature is not None else None
            if signature is None:
                idem = f"msg:{content_sha256(body)}:{self.clock.now_s()!r}"
            assert idem is not None
            now = self.clock.now_s()
            logged, attested = self._logged_party_statement(
                principal, kind, body, signature, idem=idem
            )
            existing = self.store.message(_message_id(logged.entry_hash))
            if existing is not None:  # a retry of a message already sent
                return self.message_view(existing, principal.party, full=True) | {
                    "receipt": None,
                    "replayed": True,
                }
            rule = ack_rule(self.protocol, kind)
            changes = Changes()
            msg = self._message(
                changes,
                now,
                logged,
                attested,
                sender=principal.party,
                to=addressees,
                kind=kind,
                content=parsed,
                requires_ack=rule.requires_ack,
                deadline_s=rule.deadline_s,
                reply_to=parent,
                about=about,
            )
            committed = self._commit(changes)
            self.counters["messages_sent"] += 1
            stored = committed.messages[0] if committed.messages else msg
            return self.message_view(stored, principal.party) | {"receipt": self._receipt(logged)}

    def ack(
        self, principal: Principal, message_id: str, signature: Signature | None = None
    ) -> dict[str, Any]:
        """Acknowledge a message addressed to the caller's party (again: the first ack)."""
        require(principal, "operator")
        with self._lock:
            m = self._visible_message(principal, message_id)
            if principal.party not in m.to:
                raise PermissionDeniedError(
                    field="message_id", reason="only an addressee acknowledges a message"
                )
            due = (m.sent_s + m.deadline_s) if m.requires_ack and m.deadline_s else None
            for a in self.store.acks(m.id):
                if a.party == principal.party:  # the first ack, answered as it was
                    return {
                        "message_id": m.id,
                        "party": a.party,
                        "at": format_time(a.acked_s),
                        "late": due is not None and a.acked_s > due,
                        "entry_hash": a.entry_hash,
                        "kind": m.kind,
                        "about": m.about,
                        "receipt": None,
                        "replayed": True,
                    }
            now = self.clock.now_s()
            logged, attested = self._logged_party_statement(
                principal, "ack", ack_body(m.entry_hash), signature, idem=f"ack:{m.id}"
            )
            changes = Changes()
            changes.acks.append(
                AckRecord(m.id, principal.party, now, logged.entry_hash, logged.index, attested)
            )
            changes.cleared_deadlines.append((m.id, principal.party))
            data = {
                "message_id": m.id,
                "party": principal.party,
                "at": format_time(now),
                "late": due is not None and now > due,
                "entry_hash": logged.entry_hash,
                "kind": m.kind,
                "about": m.about,
            }
            told = [m.sender, principal.party]
            if m.kind == "alert" and m.about is not None:
                # every party of the alert learns that this one acknowledged it
                told += sorted(self._about_parties.get(m.about, ()))
            for party in dict.fromkeys(told):
                if party in self._parties:
                    changes.events.append(Event(party, "ack", data, now))
            self._commit(changes)
            self.counters["acks"] += 1
            return data | {"receipt": self._receipt(logged)}

    # ================================================================== escalation

    def escalate_due(self, *, limit: int = 100) -> int:
        """Escalate every deadline that has passed unacknowledged; returns how many did.

        Safe to run again after a crash at any point: an escalation already logged is found
        by its idempotency key, one already committed is not done twice.
        """
        done = 0
        with self._lock:
            now = self.clock.now_s()
            for d in self.store.due_deadlines(now, limit=limit):
                done += self._escalate(d, now)
        return done

    def _escalate(self, d: DeadlineRecord, now: float) -> int:
        m = self.store.message(d.message_id)
        changes = Changes()
        if m is None or any(a.party == d.party for a in self.store.acks(d.message_id)):
            changes.cleared_deadlines.append((d.message_id, d.party))
            self._commit(changes)
            return 0
        if any(e.party == d.party and e.level == d.level for e in self.store.escalations(m.id)):
            changes.cleared_deadlines.append((d.message_id, d.party))  # done before a crash
            self._commit(changes)
            return 0
        name = self.protocol.escalation[d.level - 1].name
        body: dict[str, JSONValue] = {
            "to": list[JSONValue](sorted({m.sender, d.party} - {self.party_id})),
            "escalates": m.entry_hash,
            "message": m.id,
            "party": d.party,
            "level": d.level,
            "level_name": name,
            "due": format_time(d.due_s),
        }
        logged = self.signer.append_service(
            "escalation", body, idem=f"esc:{m.id}:{d.party}:{d.level}"
        )
        changes.escalations.append(
            EscalationRecord(m.id, d.party, d.level, name, now, logged.entry_hash, logged.index)
        )
        content = MessageContent(
            template="escalation",
            args={"message": m.id, "party": d.party, "level": d.level, "level_name": name},
        )
        self._message(
            changes,
            now,
            logged,
            False,
            sender=self.party_id,
            to=[p for p in (m.sender, d.party) if p in self._parties],
            kind="escalation",
            content=content,
            requires_ack=False,
            deadline_s=None,
            about=m.id,
        )
        assert m.deadline_s is not None
        nxt = escalation_due(
            self.protocol.escalation, sent_s=m.sent_s, deadline_s=m.deadline_s, reached=d.level
        )
        if nxt is None:
            changes.cleared_deadlines.append((m.id, d.party))
        else:
            changes.deadlines.append(DeadlineRecord(m.id, d.party, nxt.level, nxt.due_s))
        data = {
            "message_id": m.id,
            "party": d.party,
            "level": d.level,
            "level_name": name,
            "due": format_time(d.due_s),
            "at": format_time(now),
            "entry_hash": logged.entry_hash,
        }
        for party in dict.fromkeys([m.sender, d.party]):
            if party in self._parties:
                changes.events.append(Event(party, "escalation", data, now))
        self._commit(changes)
        self.counters["escalations"] += 1
        return 1

    def next_deadline_s(self) -> float | None:
        """When the next escalation may fall due (None: nothing is pending)."""
        return self.store.next_deadline_s()

    # ================================================================== announcements

    def announce(
        self,
        items: Sequence[Announcement],
        *,
        incidents: Sequence[IncidentRecord] = (),
        events: Sequence[Event] = (),
    ) -> list[MessageRecord]:
        """Say what the service itself observed (alerts, incidents): each item is a
        service-signed ledger entry and, with ``content``, a hotline message to its
        addressees; ``incidents`` and ``events`` are committed with them. Idempotent by each
        item's ``idem``."""
        with self._lock:
            now = self.clock.now_s()
            bodies: list[tuple[str, JSONValue, str]] = []
            for it in items:
                body: dict[str, JSONValue] = {"to": list[JSONValue](sorted(it.to)), **it.body}
                if it.content is not None:
                    body["content"] = it.content.to_dict()
                rule = ack_rule(self.protocol, it.kind)
                if it.content is not None and rule.requires_ack and rule.deadline_s is not None:
                    body["deadline_s"] = rule.deadline_s
                bodies.append((it.kind, body, it.idem))
            logged = self.signer.append_service_many(bodies) if bodies else []
            for it in items:
                if it.kind == "alert" and it.about is not None:
                    self._about_parties.setdefault(it.about, set()).update(it.to)
                    while len(self._about_parties) > 10_000:  # the oldest alerts go first
                        del self._about_parties[next(iter(self._about_parties))]
            changes = Changes(incidents=list(incidents), events=list(events))
            out = []
            for it, lg in zip(items, logged, strict=True):
                if it.content is None:
                    continue
                if self.store.message(_message_id(lg.entry_hash)) is not None:
                    continue  # announced before a crash: not twice
                rule = ack_rule(self.protocol, it.kind)
                out.append(
                    self._message(
                        changes,
                        now,
                        lg,
                        False,
                        sender=self.party_id,
                        to=list(it.to),
                        kind=it.kind,
                        content=it.content,
                        requires_ack=rule.requires_ack,
                        deadline_s=rule.deadline_s,
                        about=it.about,
                    )
                )
            committed = self._commit(changes)
            by_id = {m.id: m for m in committed.messages}
            return [by_id.get(m.id, m) for m in out]

    def live_items(self) -> list[OperationNotice | ProtectedArea]:
        """The latest live notices and the protected areas, from the strategic index (what
        the store's latest versions hold, without reading it)."""
        with self._lock:
            return list(self._index)

    def post_events(self, events: Sequence[Event]) -> None:
        """Commit stream events of the service's own (the live picture's alerts) and wake
        the parties' streams, with nothing else: the fastest way to the duty officers."""
        with self._lock:
            self._commit(Changes(events=list(events)))

    def entry_of(self, kind: str, body: dict[str, JSONValue], idem: str) -> Logged:
        """Log one service statement with no message (an incident's record, say)."""
        with self._lock:
            return self.signer.append_service(kind, body, idem=idem)

    # ================================================================== ledger

    def receipt(self, principal: Principal, index: int) -> dict[str, Any]:
        """The receipt of a leaf the caller wrote, was addressed in, or was attested for."""
        require(principal, "viewer")
        if index < 0 or index >= self.ledger.size():
            raise NotFoundError(field="index", reason=f"the log has no leaf {index}")
        logged = self.ledger.entry(index)
        e = logged.signed.entry
        body = e.body if isinstance(e.body, dict) else {}
        to = body.get("to")
        readers = {e.party, body.get("attested_for")}
        if isinstance(to, list):
            readers |= {x for x in to if isinstance(x, str)}
        if principal.party not in readers:
            raise NotFoundError(field="index", reason=f"no leaf {index} for you")
        # the proof is for the size the checkpoint itself names: the log may grow after
        # this read, and a proof must be for the tree of the checkpoint it comes with
        note = self.ledger.checkpoint()
        size = Checkpoint.parse(note.text).size
        receipt = Receipt(
            leaf_index=index,
            leaf_hash=leaf_hash(logged.signed.leaf_bytes()),
            inclusion_proof=self.ledger.inclusion_proof(index, size),
            checkpoint=str(note),
        )
        return {
            "receipt": receipt.to_json(),
            "leaf": logged.signed.leaf_bytes().decode("utf-8"),
            "logged": format_time(logged.logged_s),
        }

    # ================================================================== commit

    def _commit(self, changes: Changes) -> Any:
        committed = self.store.commit(changes)
        self._publish(committed.events)
        return committed


def cancelled_version(notice: OperationNotice) -> OperationNotice:
    """The cancelled version that follows ``notice`` (:meth:`OperationNotice.cancelled`)."""
    return notice.cancelled()
