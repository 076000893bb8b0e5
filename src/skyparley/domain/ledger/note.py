"""Signed notes (C2SP signed-note): text followed by one or more signature lines.

Format::

    <text: UTF-8, no control characters but newline, ending in a newline>
    <a blank line>
    — <key name> <base64(4-byte key id || signature)>
    — ...

The first character of a signature line is U+2014 EM DASH, then a space. The text is split
from the signatures at the last blank line, so the text may contain blank lines itself.

Verification follows the specification: a signature whose (name, key id) matches no known
key is ignored; one that matches a known key must verify or the whole note is refused; at
least one known key must have signed. Which signatures count for what (the service's key, a
quorum of witnesses) is decided by the caller from the keys :func:`verify_note` returns.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from skyparley.domain.ledger.keys import SigningKey, VerifierKey, check_key_name
from skyparley.errors import LedgerInputError, VerificationError

__all__ = [
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "parse_note",
    "sign_note",
    "verify_note",
]

MAX_SIGNATURES = 100
"""Most signature lines a note may carry (the specification asks to accept at least 16)."""

_DASH = "\u2014 "


def _check_text(text: str, field: str) -> None:
    if not isinstance(text, str) or not text:
        raise LedgerInputError(field=field, reason="the note text is empty")
    if not text.endswith("\n"):
        raise LedgerInputError(field=field, reason="the note text does not end in a newline")
    bad = next((c for c in text if ord(c) < 0x20 and c != "\n"), None)
    if bad is not None:
        raise LedgerInputError(
            field=field, reason=f"the note contains the control character {bad!r}"
        )


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key name, the 4-byte key id and the signature bytes.

    For a cosignature (type 0x04) ``signature`` is the 8-byte timestamp and the Ed25519
    signature, as on the line.
    """

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name, field="signature name")
        if len(self.key_id) != 4:
            raise LedgerInputError(field="key_id", reason="a key id is 4 bytes")

    def to_line(self) -> str:
        """The line ``— <name> <base64(key id || signature)>`` and its newline."""
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_DASH}{self.name} {blob}\n"

    def matches(self, key: VerifierKey) -> bool:
        """Whether this line claims to be by ``key`` (same name and key id)."""
        return self.name == key.name and self.key_id == key.key_id


@dataclass(frozen=True, slots=True)
class Note:
    """A note: its ``text`` (ending in a newline) and its signature lines, in order.

    ``str(note)`` is the signed note as it travels (text, blank line, signature lines).

    Examples
    --------
    >>> from skyparley.domain.ledger.keys import SigningKey
    >>> key = SigningKey.from_seed("EnochRoot", bytes(32))
    >>> note = sign_note("hello\\n", key)
    >>> text = str(note)
    >>> text.startswith("hello\\n\\n\\u2014 EnochRoot ")
    True
    >>> [k.name for k in verify_note(parse_note(text), [key.verifier])]
    ['EnochRoot']
    """

    text: str
    signatures: tuple[NoteSignature, ...] = ()

    def __post_init__(self) -> None:
        _check_text(self.text, "note")
        if len(self.signatures) > MAX_SIGNATURES:
            raise LedgerInputError(
                field="note", reason=f"more than {MAX_SIGNATURES} signature lines"
            )

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.to_line() for s in self.signatures)

    def encode(self) -> bytes:
        """The signed note as UTF-8 bytes."""
        return str(self).encode("utf-8")

    def with_signatures(self, *signatures: NoteSignature) -> Note:
        """This note with ``signatures`` appended (e.g. cosignatures gathered from witnesses)."""
        return Note(text=self.text, signatures=self.signatures + signatures)


def sign_note(text: str, *keys: SigningKey, time_s: int | None = None) -> Note:
    """The note ``text`` signed by each of ``keys``, in order.

    ``time_s`` (whole POSIX seconds, from the injected clock) is needed only by cosigning keys
    (type 0x04), whose signature carries it.
    """
    _check_text(text, "note")
    raw = text.encode("utf-8")
    sigs = tuple(
        NoteSignature(name=k.name, key_id=k.key_id, signature=k.sign_note_text(raw, time_s=time_s))
        for k in keys
    )
    return Note(text=text, signatures=sigs)


def parse_note(message: str | bytes) -> Note:
    """A :class:`Note` from its text form; checks the syntax only, not the signatures.

    Raises :class:`~skyparley.errors.LedgerInputError` (field ``note``) on malformed input.

    Examples
    --------
    >>> parse_note("no signatures\\n")
    Traceback (most recent call last):
    ...
    skyparley.errors.LedgerInputError: note: no blank line before the signatures
    """
    fld = "note"
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise LedgerInputError(field=fld, reason="the note is not valid UTF-8") from None
    if not isinstance(message, str) or not message.endswith("\n"):
        raise LedgerInputError(field=fld, reason="a signed note ends in a newline")
    split = message.rfind("\n\n")
    if split < 0:
        raise LedgerInputError(field=fld, reason="no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    _check_text(text, fld)
    lines = block.split("\n")[:-1]  # the block ends in a newline, checked above
    if not lines:
        raise LedgerInputError(field=fld, reason="the note has no signature line")
    if len(lines) > MAX_SIGNATURES:
        raise LedgerInputError(field=fld, reason=f"more than {MAX_SIGNATURES} signature lines")
    sigs = []
    for n, line in enumerate(lines, start=1):
        where = f"signature line {n}"
        if not line.startswith(_DASH):
            raise LedgerInputError(field=fld, reason=f"{where} does not start with '\u2014 '")
        name, sep, blob = line[len(_DASH) :].rpartition(" ")
        if not sep:
            raise LedgerInputError(field=fld, reason=f"{where} has no signature after the name")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (ValueError, binascii.Error):
            raise LedgerInputError(
                field=fld, reason=f"{where}: the signature is not base64"
            ) from None
        if len(raw) < 5 or base64.b64encode(raw).decode("ascii") != blob:
            raise LedgerInputError(field=fld, reason=f"{where}: the signature is malformed")
        try:
            sigs.append(NoteSignature(name=name, key_id=raw[:4], signature=raw[4:]))
        except LedgerInputError as exc:
            raise LedgerInputError(field=fld, reason=f"{where}: {exc.reason}") from None
    return Note(text=text, signatures=tuple(sigs))


def verify_note(note: Note | str | bytes, known: Iterable[VerifierKey]) -> tuple[VerifierKey, ...]:
    """The known keys whose signatures on ``note`` verify, in the order of the lines.

    Lines by unknown keys are ignored. Raises :class:`~skyparley.errors.VerificationError`
    when a line by a known key does not verify, when a known key signed twice, or when no
    known key signed at all.
    """
    if not isinstance(note, Note):
        note = parse_note(note)
    keys = list(known)
    raw = note.text.encode("utf-8")
    verified: list[VerifierKey] = []
    for n, sig in enumerate(note.signatures, start=1):
        key = next((k for k in keys if sig.matches(k)), None)
        if key is None:
            continue
        where = f"signature line {n}, key {key.name}+{key.key_id.hex()}"
        if key in verified:
            raise VerificationError(
                what="note signature", where=where, reason="the key signed the note twice"
            )
        if not key.verify_note_signature(raw, sig.signature):
            raise VerificationError(
                what="note signature", where=where, reason="the signature does not verify"
            )
        verified.append(key)
    if not verified:
        names = ", ".join(sorted({k.name for k in keys})) or "none"
        raise VerificationError(
            what="note signature",
            reason=f"no signature by a known key (known: {names})",
        )
    return tuple(verified)
