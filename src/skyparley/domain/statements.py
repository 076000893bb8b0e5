"""Statements: the ledger entry behind every request a party makes, built the same way by
the party's client (which signs it) and by the service (which checks the signature).

Every notice version, protected-area version, hotline message and acknowledgement is a
signed ledger entry. The client and the service must agree on its exact bytes, so the
entry's ``body`` is a pure function of the request, defined here once:

=====================  ===========  =====================================================
request                entry kind   body
=====================  ===========  =====================================================
notice version         ``notice``   ``{"ref", "state", "notice_sha256", "to"}``
protected area         ``notice``   ``{"ref", "area_sha256", "to": []}``
hotline message        its kind     ``{"to", "content", "reply_to", "about"}``
acknowledgement        ``ack``      ``{"acks": "<entry hash of the message>"}``
=====================  ===========  =====================================================

A notice or a protected area is not written into the ledger in the clear: the entry holds
the SHA-256 of its RFC 8785 JSON (``notice_sha256``, ``area_sha256``), so a bundle shows
that ``russia`` notified ``russia/ru-1@2`` to ``coalition`` at a given time, and commits to
its exact volumes, without disclosing them to whoever reads the bundle. The service keeps
the notice itself; its owner can always prove the content by showing it.

A request carries a :class:`Signature` envelope: ``client_time``, ``prev`` (the hash of the
party's previous entry, from ``GET /v1/ledger/head``), ``idem`` (the idempotency key: a
retry with the same key is the same request) and the Ed25519 signature. A request without
one is *service-attested*: the service signs an entry of its own saying that the party,
authenticated by its token, asked for it (see :func:`attested_body`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from skyparley.domain.hotline import MessageContent
from skyparley.domain.ledger.entry import Entry, JSONValue, SignedEntry, canonical_json, sign_entry
from skyparley.domain.ledger.keys import SigningKey
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.times import format_time
from skyparley.errors import InputError

__all__ = [
    "Signature",
    "ack_body",
    "area_body",
    "attested_body",
    "content_sha256",
    "message_body",
    "notice_body",
    "sign_statement",
]

_IDEM = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def content_sha256(obj: dict[str, Any]) -> str:
    """Hex SHA-256 of the RFC 8785 JSON of ``obj`` (a notice's or an area's JSON form)."""
    return hashlib.sha256(canonical_json(obj, field="body")).hexdigest()


def notice_body(notice: OperationNotice, to: Sequence[str]) -> dict[str, JSONValue]:
    """The body of a notice version's entry, addressed to ``to`` (the other parties)."""
    return {
        "ref": notice.ref,
        "state": notice.state,
        "notice_sha256": content_sha256(notice.to_dict()),
        "to": list[JSONValue](sorted(to)),
    }


def area_body(area: ProtectedArea) -> dict[str, JSONValue]:
    """The body of a protected area's entry (addressed to nobody: it is the owner's record)."""
    return {"ref": area.ref, "area_sha256": content_sha256(area.to_dict()), "to": []}


def message_body(
    to: Sequence[str],
    content: MessageContent,
    *,
    reply_to: str | None = None,
    about: str | None = None,
) -> dict[str, JSONValue]:
    """The body of a hotline message's entry."""
    addressees: list[JSONValue] = [*sorted(to)]
    return {
        "to": addressees,
        "content": content.to_dict(),
        "reply_to": reply_to,
        "about": about,
    }


def ack_body(message_entry_hash: str) -> dict[str, JSONValue]:
    """The body of an acknowledgement: the entry hash of the acknowledged message."""
    return {"acks": message_entry_hash}


def attested_body(party: str, kind: str, body: dict[str, JSONValue]) -> dict[str, JSONValue]:
    """The body of a service-attested entry: the party's statement, said on its behalf.

    ``to`` is lifted to the top so the ledger timeline still knows the addressees.
    """
    out: dict[str, JSONValue] = {"attested_for": party, "kind": kind, "statement": body}
    if "to" in body:
        out["to"] = body["to"]
    if "acks" in body:
        out["acks"] = body["acks"]
    return out


@dataclass(frozen=True, slots=True)
class Signature:
    """A party's signature on a request: the entry fields the party chose, and its signature.

    ``kid`` is the 8 hex digits of the key id and ``sig`` the base64 Ed25519 signature of
    the entry (see :mod:`skyparley.domain.ledger.entry`).
    """

    client_time: str
    prev: str | None
    idem: str
    kid: str
    sig: str

    def __post_init__(self) -> None:
        if not isinstance(self.idem, str) or not _IDEM.fullmatch(self.idem):
            raise InputError(
                field="signature.idem",
                reason="must be 1 to 128 letters, digits, '.', '_', ':' or '-'",
            )
        if not isinstance(self.kid, str) or not re.fullmatch(r"[0-9a-f]{8}", self.kid):
            raise InputError(field="signature.kid", reason="must be 8 lowercase hex digits")

    def entry(self, *, log_id: str, party: str, kind: str, body: JSONValue) -> SignedEntry:
        """The signed entry this envelope claims (whether it verifies is the ledger's check)."""
        try:
            sig = base64.b64decode(self.sig, validate=True)
        except (ValueError, binascii.Error):
            raise InputError(field="signature.sig", reason="must be base64") from None
        entry = Entry(
            log_id=log_id,
            party=party,
            kind=kind,
            client_time=self.client_time,
            prev=self.prev,
            idem=self.idem,
            body=body,
        )
        return SignedEntry.of(entry, sig, bytes.fromhex(self.kid))

    def to_dict(self) -> dict[str, Any]:
        """JSON form of the envelope."""
        return {
            "client_time": self.client_time,
            "prev": self.prev,
            "idem": self.idem,
            "kid": self.kid,
            "sig": self.sig,
        }


def sign_statement(
    key: SigningKey,
    *,
    log_id: str,
    party: str,
    kind: str,
    body: JSONValue,
    prev: str | None,
    idem: str,
    now_s: float,
) -> tuple[Signature, SignedEntry]:
    """Sign a statement as ``party``: the envelope to send and the entry it stands for."""
    entry = Entry(
        log_id=log_id,
        party=party,
        kind=kind,
        client_time=format_time(now_s),
        prev=prev,
        idem=idem,
        body=body,
    )
    signed = sign_entry(entry, key)
    envelope = Signature(
        client_time=entry.client_time,
        prev=prev,
        idem=idem,
        kid=signed.key_id.hex(),
        sig=base64.b64encode(signed.signature).decode("ascii"),
    )
    return envelope, signed
