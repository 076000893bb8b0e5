"""Ledger entries: what a party says, as canonical JSON, signed by that party.

Entry
-----
An entry is the RFC 8785 (JCS) canonical JSON of one object with exactly these members::

    {"body": <any JSON> | "body_sha256": "<64 hex>",   exactly one of the two
     "client_time": "2015-10-10T09:00:00Z",            RFC 3339, UTC, with Z
     "idem": "<idempotency key>",
     "kind": "<kind of message, e.g. notice, ack>",
     "log_id": "<the log's origin>",
     "party": "<author party id>",
     "prev": "<64 hex>" | null}

``prev`` is the lowercase hex SHA-256 of the canonical bytes of the author's previous entry
in this log (``null`` for its first): each party's entries form a hash chain, so a party's
history cannot be cut or reordered without breaking the chain.

Signature
---------
The author signs ``b"skyparley/entry/v1\\n" + <canonical entry bytes>`` with Ed25519 (the
prefix keeps an entry signature from ever being valid as a note signature or a
cosignature). ``kid`` is the signed-note key id of the author's key as listed in the keyring.

Leaf
----
The Merkle leaf of a signed entry is the RFC 8785 canonical JSON of::

    {"entry": <the entry object>, "kid": "<8 hex>", "sig": "<base64 of the 64-byte signature>"}

Because JCS canonicalises recursively, the entry's canonical bytes appear verbatim inside the
leaf: ``{"entry":`` + entry bytes + ``,"kid":"…","sig":"…"}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skyparley.domain import jcs
from skyparley.domain.ledger.keys import SigningKey, VerifierKey
from skyparley.errors import LedgerInputError, VerificationError

__all__ = [
    "ENTRY_SIGNATURE_CONTEXT",
    "Entry",
    "JSONValue",
    "KeyRing",
    "SignedEntry",
    "canonical_json",
    "entry_hash",
    "sign_entry",
    "verify_chain",
    "verify_entry",
]

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]
"""A JSON value as Python builds it."""

ENTRY_SIGNATURE_CONTEXT = b"skyparley/entry/v1\n"
"""Prefix of the message an author signs: this string, then the canonical entry bytes."""

_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_ENTRY_KEYS = {"client_time", "idem", "kind", "log_id", "party", "prev"}
_LEAF_KEYS = {"entry", "kid", "sig"}


def canonical_json(value: JSONValue, *, field: str = "entry") -> bytes:
    """The RFC 8785 canonical bytes of a JSON value.

    Raises :class:`~skyparley.errors.LedgerInputError` for what JSON cannot hold exactly
    (NaN, infinities, integers beyond 2**53).

    Examples
    --------
    >>> canonical_json({"b": [1.0, "\\u00e9"], "a": None})
    b'{"a":null,"b":[1,"\\xc3\\xa9"]}'
    """
    try:
        return jcs.dumps(value)
    except jcs.CanonicalError as exc:
        raise LedgerInputError(field=field, reason=f"not canonical JSON: {exc}") from None


def _strict_loads(data: bytes, field: str) -> Any:
    """JSON from bytes that must be canonical (so no duplicate keys, no extra spaces)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise LedgerInputError(field=field, reason="a JSON object repeats a member")
        return dict(pairs)

    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerInputError(field=field, reason=f"not JSON: {exc}") from None
    if canonical_json(value, field=field) != data:
        raise LedgerInputError(field=field, reason="not in RFC 8785 canonical form")
    return value


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise LedgerInputError(field=field, reason="must be non-empty text")
    return value


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing a party said in the log (see the module notes for the JSON).

    Exactly one of ``body`` (the JSON content) and ``body_sha256`` (lowercase hex SHA-256 of
    content kept elsewhere) is given; ``client_time`` is RFC 3339 UTC text with ``Z``.

    Examples
    --------
    >>> e = Entry(log_id="log.example", party="blue", kind="text", body={"text": "hello"},
    ...           client_time="2015-10-10T09:00:00Z", prev=None, idem="blue-1")
    >>> e.canonical_bytes()
    b'{"body":{"text":"hello"},"client_time":"2015-10-10T09:00:00Z","idem":"blue-1",\
"kind":"text","log_id":"log.example","party":"blue","prev":null}'
    >>> Entry.from_canonical(e.canonical_bytes()) == e
    True
    """

    log_id: str
    party: str
    kind: str
    client_time: str
    prev: str | None
    idem: str
    body: JSONValue = None
    body_sha256: str | None = None
    _body_bytes: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("log_id", "party", "kind", "idem"):
            _text(getattr(self, name), name)
        if not isinstance(self.client_time, str) or not _TIME_RE.fullmatch(self.client_time):
            raise LedgerInputError(
                field="client_time",
                reason=f"{self.client_time!r} is not RFC 3339 UTC text like 2015-10-10T09:00:00Z",
            )
        try:
            datetime.fromisoformat(self.client_time)
        except ValueError:
            raise LedgerInputError(
                field="client_time", reason=f"{self.client_time!r} is not a valid date and time"
            ) from None
        if self.prev is not None and not (
            isinstance(self.prev, str) and _HEX64_RE.fullmatch(self.prev)
        ):
            raise LedgerInputError(field="prev", reason="must be null or 64 lowercase hex digits")
        if self.body_sha256 is not None:
            if self.body is not None:
                raise LedgerInputError(
                    field="body", reason="give either body or body_sha256, not both"
                )
            if not (isinstance(self.body_sha256, str) and _HEX64_RE.fullmatch(self.body_sha256)):
                raise LedgerInputError(
                    field="body_sha256", reason="must be 64 lowercase hex digits"
                )
        # refuses NaN and out-of-range numbers early; kept for canonical_bytes
        object.__setattr__(self, "_body_bytes", canonical_json(self.body, field="body"))

    def _members(self) -> dict[str, JSONValue]:
        """The members other than the body (or its hash)."""
        return {
            "client_time": self.client_time,
            "idem": self.idem,
            "kind": self.kind,
            "log_id": self.log_id,
            "party": self.party,
            "prev": self.prev,
        }

    def to_json(self) -> dict[str, JSONValue]:
        """The entry as a JSON object (the members of the module notes)."""
        obj = self._members()
        if self.body_sha256 is not None:
            obj["body_sha256"] = self.body_sha256
        else:
            obj["body"] = self.body
        return obj

    def canonical_bytes(self) -> bytes:
        """The RFC 8785 bytes of :meth:`to_json`: what is hashed and signed.

        ``body`` sorts first of the members, so its canonical bytes (made when the entry
        was) open the object, and only the other members are encoded here.
        """
        rest = self._members()
        if self.body_sha256 is not None:
            rest["body_sha256"] = self.body_sha256  # sorts first of these
            return canonical_json(rest)
        return b'{"body":' + self._body_bytes + b"," + canonical_json(rest)[1:]

    @classmethod
    def from_json(cls, obj: object) -> Entry:
        """An entry from its JSON object; refuses missing and unknown members."""
        if not isinstance(obj, dict):
            raise LedgerInputError(field="entry", reason="must be a JSON object")
        keys = set(obj)
        extra = keys - _ENTRY_KEYS - {"body", "body_sha256"}
        missing = _ENTRY_KEYS - keys
        if extra or missing or len(keys & {"body", "body_sha256"}) != 1:
            raise LedgerInputError(
                field="entry",
                reason=f"members must be {sorted(_ENTRY_KEYS)} and one of body/body_sha256 "
                f"(missing {sorted(missing)}, unknown {sorted(extra)})",
            )
        if "body_sha256" in obj and not isinstance(obj["body_sha256"], str):
            raise LedgerInputError(field="body_sha256", reason="must be 64 lowercase hex digits")
        return cls(
            log_id=obj["log_id"],
            party=obj["party"],
            kind=obj["kind"],
            client_time=obj["client_time"],
            prev=obj["prev"],
            idem=obj["idem"],
            body=obj.get("body"),
            body_sha256=obj.get("body_sha256"),
        )

    @classmethod
    def from_canonical(cls, data: bytes) -> Entry:
        """An entry from its canonical bytes (non-canonical bytes are refused)."""
        return cls.from_json(_strict_loads(data, "entry"))


def entry_hash(entry: Entry) -> str:
    """Lowercase hex SHA-256 of the entry's canonical bytes: the next entry's ``prev``."""
    return hashlib.sha256(entry.canonical_bytes()).hexdigest()


class KeyRing(Mapping[str, VerifierKey]):
    """Read-only map from party id to that party's verifier key (from the protocol).

    Examples
    --------
    >>> from skyparley.domain.ledger.keys import SigningKey
    >>> ring = KeyRing([SigningKey.from_seed("blue", bytes(32)).verifier])
    >>> list(ring), "blue" in ring, "red" in ring
    (['blue'], True, False)
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[VerifierKey] | Mapping[str, VerifierKey]) -> None:
        pairs = list(keys.items()) if isinstance(keys, Mapping) else [(k.name, k) for k in keys]
        table: dict[str, VerifierKey] = {}
        for party, key in pairs:
            if party in table:
                raise LedgerInputError(field="keyring", reason=f"party {party!r} listed twice")
            table[party] = key
        self._keys = table

    def __getitem__(self, party: str) -> VerifierKey:
        return self._keys[party]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing({sorted(self._keys)!r})"


@dataclass(frozen=True, slots=True)
class SignedEntry:
    """An entry as it enters the log: canonical bytes, the author's signature and key id.

    Construction parses ``canonical`` (which must be a canonical entry), so a
    ``SignedEntry`` always holds a well-formed entry; whether the signature verifies is
    :func:`verify_entry`'s question.
    """

    canonical: bytes
    signature: bytes
    key_id: bytes
    _entry: Entry = field(init=False, repr=False, compare=False)
    _signed_by: SigningKey | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check_lengths()
        object.__setattr__(self, "_entry", Entry.from_canonical(self.canonical))

    @property
    def signed_by(self) -> SigningKey | None:
        """The key that made :attr:`signature` over these bytes in this process
        (:func:`sign_entry`), or None. A verifier that holds that very key object may take
        the signature as valid for the key's public half without checking it again."""
        return self._signed_by

    @classmethod
    def of(cls, entry: Entry, signature: bytes, key_id: bytes) -> SignedEntry:
        """The signed entry of ``entry`` (its :meth:`Entry.canonical_bytes`), keeping the
        entry as it is rather than parsing its bytes back (what construction does)."""
        return _signed_of(entry, entry.canonical_bytes(), signature, key_id)

    def _check_lengths(self) -> None:
        if len(self.signature) != 64:
            raise LedgerInputError(field="sig", reason="an Ed25519 signature is 64 bytes")
        if len(self.key_id) != 4:
            raise LedgerInputError(field="kid", reason="a key id is 4 bytes")

    @property
    def entry(self) -> Entry:
        """The entry, parsed from the canonical bytes (or the one it was made from, by
        :meth:`of`, equal to it)."""
        return self._entry

    @property
    def hash(self) -> str:
        """:func:`entry_hash` of the entry, from the bytes already held (no re-encoding)."""
        return hashlib.sha256(self.canonical).hexdigest()

    def leaf_bytes(self) -> bytes:
        """The Merkle leaf: canonical ``{"entry": …, "kid": …, "sig": …}`` (module notes).

        The members sort as written and the entry's bytes are canonical already, so the leaf
        is their concatenation (hex and base64 need no escaping).
        """
        return (
            b'{"entry":'
            + self.canonical
            + b',"kid":"'
            + self.key_id.hex().encode("ascii")
            + b'","sig":"'
            + base64.b64encode(self.signature)
            + b'"}'
        )

    @classmethod
    def from_leaf(cls, leaf: bytes) -> SignedEntry:
        """The signed entry from its leaf bytes (non-canonical leaves are refused)."""
        obj = _strict_loads(leaf, "leaf")
        if not isinstance(obj, dict) or set(obj) != _LEAF_KEYS:
            raise LedgerInputError(field="leaf", reason=f"members must be {sorted(_LEAF_KEYS)}")
        kid, sig = obj["kid"], obj["sig"]
        if not isinstance(kid, str) or not re.fullmatch(r"[0-9a-f]{8}", kid):
            raise LedgerInputError(field="kid", reason="must be 8 lowercase hex digits")
        try:
            raw_sig = base64.b64decode(sig, validate=True) if isinstance(sig, str) else b""
        except (ValueError, binascii.Error):
            raw_sig = b""
        if not isinstance(sig, str) or base64.b64encode(raw_sig).decode("ascii") != sig:
            raise LedgerInputError(field="sig", reason="must be canonical base64")
        entry = Entry.from_json(obj["entry"])
        return cls(canonical=entry.canonical_bytes(), signature=raw_sig, key_id=bytes.fromhex(kid))


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _signed_of(entry: Entry, canonical: bytes, signature: bytes, key_id: bytes) -> SignedEntry:
    """:meth:`SignedEntry.of` where ``canonical`` is ``entry.canonical_bytes()`` already.

    Parsing the bytes back gives the entry again, except where a float of the body from
    2**53 up is written as an integer that JCS cannot read back: bytes with a run of 16
    digits anywhere take the general construction, which refuses those as it always has.
    """
    if b"0" * 16 in canonical.translate(_DIGITS_AS_ZERO):
        return SignedEntry(canonical=canonical, signature=signature, key_id=key_id)
    signed = object.__new__(SignedEntry)
    object.__setattr__(signed, "canonical", canonical)
    object.__setattr__(signed, "signature", signature)
    object.__setattr__(signed, "key_id", key_id)
    signed._check_lengths()
    object.__setattr__(signed, "_entry", entry)
    object.__setattr__(signed, "_signed_by", None)
    return signed


def sign_entry(entry: Entry, key: SigningKey) -> SignedEntry:
    """The entry signed by its author's key (whose name need not be the party id)."""
    data = entry.canonical_bytes()
    signed = _signed_of(entry, data, key.sign(ENTRY_SIGNATURE_CONTEXT + data), key.key_id)
    object.__setattr__(signed, "_signed_by", key)
    return signed


def verify_entry(
    signed: SignedEntry, keyring: Mapping[str, VerifierKey], *, log_id: str | None = None
) -> Entry:
    """The entry, once its signature verifies against its party's key in ``keyring``.

    With ``log_id``, the entry must also name that log (an entry signed for one log cannot
    be replayed into another). Raises :class:`~skyparley.errors.VerificationError` naming the
    party and the idempotency key when the party is unknown, the key id is not the party's,
    the signature is wrong or the entry is for another log.
    """
    entry = signed.entry
    where = f"party {entry.party}, idem {entry.idem}"
    what = "entry signature"
    if log_id is not None and entry.log_id != log_id:
        raise VerificationError(
            what="entry", where=where, reason=f"written for log {entry.log_id}, not {log_id}"
        )
    key = keyring.get(entry.party)
    if key is None:
        raise VerificationError(
            what=what, where=where, reason="the party has no key in the keyring"
        )
    if signed.key_id != key.key_id:
        raise VerificationError(
            what=what,
            where=where,
            reason=f"signed with key id {signed.key_id.hex()}, the party's key is "
            f"{key.key_id.hex()}",
        )
    if not key.verify(ENTRY_SIGNATURE_CONTEXT + signed.canonical, signed.signature):
        raise VerificationError(what=what, where=where, reason="the signature does not verify")
    return entry


def verify_chain(entries: Iterable[Entry], *, prev: str | None = None) -> str | None:
    """Check one party's entries, in log order, form a hash chain; returns the last hash.

    ``prev`` is what the first entry's ``prev`` must be: ``None`` from the start of the log,
    or the hash of the entry before the slice being checked. Raises
    :class:`~skyparley.errors.VerificationError` at the first broken link.

    Examples
    --------
    >>> e1 = Entry("log.example", "blue", "text", "2015-10-10T09:00:00Z", None, "b1", "hi")
    >>> e2 = Entry("log.example", "blue", "text", "2015-10-10T09:01:00Z", entry_hash(e1), "b2", "")
    >>> verify_chain([e1, e2]) == entry_hash(e2)
    True
    >>> verify_chain([e2])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    skyparley.errors.VerificationError: entry chain (party blue, entry 0, idem b2): prev is ... \
but the previous entry hashes to null
    """
    party: str | None = None
    for n, entry in enumerate(entries):
        where = f"party {entry.party}, entry {n}, idem {entry.idem}"
        if party is None:
            party = entry.party
        elif entry.party != party:
            raise VerificationError(
                what="entry chain", where=where, reason=f"not an entry of party {party}"
            )
        if entry.prev != prev:
            raise VerificationError(
                what="entry chain",
                where=where,
                reason=f"prev is {entry.prev or 'null'} but the previous entry hashes to "
                f"{prev or 'null'}",
            )
        prev = entry_hash(entry)
    return prev
