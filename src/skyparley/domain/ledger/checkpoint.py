"""Checkpoints (C2SP tlog-checkpoint), their cosignatures (C2SP tlog-cosignature) and witnesses.

Checkpoint
----------
The body of a checkpoint is the text of a signed note::

    <origin>                      the log's name, e.g. skyparley.example/syria-2015
    <tree size>                   ASCII decimal, no leading zeros
    <root hash>                   standard base64 of the 32-byte RFC 9162 root
    [<extension line> ...]        optional, non-empty lines

The service signs it with its key (type 0x01, an Ed25519 note signature over the body).

Cosignature
-----------
A party cosigns a checkpoint as a *witness* with a note signature of type 0x04 (C2SP
tlog-cosignature, Ed25519 ``cosignature/v1``): the line is
``— <witness name> base64(key id || 8-byte big-endian time || Ed25519 signature)``, the key id
is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and the signed message is::

    cosignature/v1
    time <POSIX seconds>
    <the whole checkpoint body, extension lines included>

Semantics: as of that time, the largest consistent tree the witness has seen for the origin
has that root. :class:`Witness` keeps that state and refuses to cosign a checkpoint that is
not consistent with it, raising :class:`~skyparley.errors.SplitViewError`.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from skyparley.domain.ledger.keys import COSIGNATURE_V1, ED25519, SigningKey, VerifierKey
from skyparley.domain.ledger.merkle import HASH_SIZE, verify_consistency
from skyparley.domain.ledger.note import Note, NoteSignature, parse_note, sign_note, verify_note
from skyparley.errors import LedgerInputError, SplitViewError, VerificationError

__all__ = [
    "Checkpoint",
    "CosignResult",
    "Cosignature",
    "SignedCheckpoint",
    "Witness",
    "cosign_checkpoint",
    "open_checkpoint",
    "sign_checkpoint",
]

_SIZE_RE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The state of a log at one size: origin, tree size, root hash, extension lines.

    Examples
    --------
    >>> cp = Checkpoint(origin="skyparley.example/log", size=0, root_hash=bytes(32))
    >>> print(cp.body(), end="")
    skyparley.example/log
    0
    AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
    >>> Checkpoint.parse(cp.body()) == cp
    True
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or not _is_line(self.origin):
            raise LedgerInputError(field="origin", reason="must be one non-empty line of text")
        size = self.size
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < 2**64:
            raise LedgerInputError(field="size", reason=f"must be a uint64 integer: {size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise LedgerInputError(field="root_hash", reason=f"must be {HASH_SIZE} bytes")
        for line in self.extensions:
            if not isinstance(line, str) or not line or not _is_line(line):
                raise LedgerInputError(
                    field="extensions", reason="each extension is one non-empty line of text"
                )

    def body(self) -> str:
        """The checkpoint as note text (every line ends in a newline)."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """A checkpoint from its note text; raises :class:`~skyparley.errors.LedgerInputError`."""
        fld = "checkpoint"
        if not isinstance(body, str) or not body.endswith("\n"):
            raise LedgerInputError(field=fld, reason="the checkpoint does not end in a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise LedgerInputError(field=fld, reason="expected origin, size and root lines")
        origin, size_text, root_text, *ext = lines
        if not _SIZE_RE.fullmatch(size_text) or len(size_text) > 20:
            raise LedgerInputError(
                field=fld, reason=f"tree size {size_text!r} is not a decimal without leading zeros"
            )
        try:
            root = base64.b64decode(root_text, validate=True)
        except (ValueError, binascii.Error):
            raise LedgerInputError(field=fld, reason="the root hash is not base64") from None
        if base64.b64encode(root).decode("ascii") != root_text:
            raise LedgerInputError(field=fld, reason="the root hash is not canonical base64")
        try:
            return cls(origin=origin, size=int(size_text), root_hash=root, extensions=tuple(ext))
        except LedgerInputError as exc:
            raise LedgerInputError(field=fld, reason=f"{exc.field} {exc.reason}") from None


def _is_line(text: str) -> bool:
    return "\n" not in text and all(ord(c) >= 0x20 for c in text)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A verified cosignature: the witness key and the time (POSIX seconds) it signed at."""

    witness: VerifierKey
    time_s: int


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint whose service signature verified, with the cosignatures that verified."""

    checkpoint: Checkpoint
    note: Note
    cosignatures: tuple[Cosignature, ...] = ()


def sign_checkpoint(checkpoint: Checkpoint, service_key: SigningKey) -> Note:
    """The checkpoint as a note signed by the service key (type 0x01)."""
    if service_key.sig_type != ED25519:
        raise LedgerInputError(
            field="service_key", reason="the service signs checkpoints with an Ed25519 key"
        )
    return sign_note(checkpoint.body(), service_key)


def cosign_checkpoint(note: Note, witness_key: SigningKey, *, time_s: int) -> NoteSignature:
    """The cosignature line of ``witness_key`` (type 0x04) on the checkpoint ``note`` at ``time_s``.

    This signs without any check; a party should cosign through :meth:`Witness.cosign`.
    """
    if witness_key.sig_type != COSIGNATURE_V1:
        raise LedgerInputError(
            field="witness_key", reason="a cosignature needs a key of type 0x04 (cosignature/v1)"
        )
    (sig,) = sign_note(note.text, witness_key, time_s=time_s).signatures
    return sig


def open_checkpoint(
    note: Note | str | bytes,
    service_key: VerifierKey,
    *,
    witnesses: Iterable[VerifierKey] = (),
    quorum: int = 0,
) -> SignedCheckpoint:
    """Verify a signed checkpoint: the service's signature, then the cosignatures.

    Lines by other keys are ignored; a line by a known key that does not verify makes the
    whole note fail. Raises :class:`~skyparley.errors.VerificationError` when the service did
    not sign it or fewer than ``quorum`` of ``witnesses`` (type 0x04 keys) cosigned it.
    """
    if not isinstance(note, Note):
        note = parse_note(note)
    witness_keys = tuple(witnesses)
    for w in witness_keys:
        if w.sig_type != COSIGNATURE_V1:
            raise LedgerInputError(field="witnesses", reason=f"{w.name}: not a type 0x04 key")
    verified = verify_note(note, (service_key, *witness_keys))
    if service_key not in verified:
        raise VerificationError(
            what="checkpoint signature",
            where=f"key {service_key.name}+{service_key.key_id.hex()}",
            reason="the service did not sign this checkpoint",
        )
    checkpoint = Checkpoint.parse(note.text)
    cosigs = []
    for key in verified:
        if key == service_key:
            continue
        sig = next(s for s in note.signatures if s.matches(key))
        (time_s,) = struct.unpack(">Q", sig.signature[:8])
        cosigs.append(Cosignature(witness=key, time_s=time_s))
    if len(cosigs) < quorum:
        raise VerificationError(
            what="checkpoint cosignatures",
            where=f"size {checkpoint.size}",
            reason=f"{len(cosigs)} of the required {quorum} witnesses cosigned",
        )
    return SignedCheckpoint(checkpoint=checkpoint, note=note, cosignatures=tuple(cosigs))


@dataclass(frozen=True, slots=True)
class CosignResult:
    """What :meth:`Witness.cosign` returns: the witness's next state and the cosignature line."""

    witness: Witness
    cosignature: NoteSignature
    checkpoint: Checkpoint


@dataclass(frozen=True, slots=True)
class Witness:
    """A party watching one log: its cosigning key and the latest checkpoint it cosigned.

    A pure state machine: :meth:`cosign` returns the next state in a :class:`CosignResult`,
    which the caller stores (only then should the cosignature be released). ``latest`` is
    ``None`` until the first checkpoint, which is accepted as seen (trust on first use).

    Examples
    --------
    >>> from skyparley.domain.ledger.keys import SigningKey, COSIGNATURE_V1
    >>> from skyparley.domain.ledger.merkle import MemoryTree, consistency_proof
    >>> log_key = SigningKey.from_seed("log.example", bytes(32))
    >>> w = Witness(
    ...     key=SigningKey.from_seed("blue", bytes([1]) * 32, COSIGNATURE_V1),
    ...     log_key=log_key.verifier,
    ...     origin="log.example",
    ... )
    >>> tree = MemoryTree()
    >>> _ = tree.append(b"first")
    >>> note = sign_checkpoint(Checkpoint("log.example", 1, tree.root()), log_key)
    >>> step = w.cosign(note, (), time_s=1444467600)
    >>> _ = tree.append(b"second")
    >>> note2 = sign_checkpoint(Checkpoint("log.example", 2, tree.root()), log_key)
    >>> step = step.witness.cosign(note2, consistency_proof(1, 2, tree), time_s=1444467660)
    >>> step.witness.latest.size
    2
    """

    key: SigningKey
    log_key: VerifierKey
    origin: str
    latest: Checkpoint | None = None

    def __post_init__(self) -> None:
        if self.key.sig_type != COSIGNATURE_V1:
            raise LedgerInputError(
                field="key", reason="a witness cosigns with a key of type 0x04 (cosignature/v1)"
            )
        if self.latest is not None and self.latest.origin != self.origin:
            raise LedgerInputError(field="latest", reason="checkpoint of another log")

    def cosign(
        self, note: Note | str | bytes, proof: Sequence[bytes], *, time_s: int
    ) -> CosignResult:
        """Check a signed checkpoint against the latest one and cosign it at ``time_s``.

        ``proof`` is the consistency proof from :attr:`latest` to the offered checkpoint
        (empty for the first one or for the same size). Raises
        :class:`~skyparley.errors.VerificationError` when the service signature is bad or the
        tree shrank, and :class:`~skyparley.errors.SplitViewError` when the checkpoint is not
        consistent with the latest one (another root at the same size, or a consistency
        proof that does not verify).
        """
        signed = open_checkpoint(note, self.log_key)
        new = signed.checkpoint
        if new.origin != self.origin:
            raise VerificationError(
                what="checkpoint",
                where=f"log {self.origin}",
                reason=f"the checkpoint is for another log ({new.origin})",
            )
        old = self.latest
        if old is None or old.size == 0:
            if proof:
                raise VerificationError(
                    what="consistency proof",
                    where=f"log {self.origin}",
                    reason="a proof from an empty or unknown tree must be empty",
                )
        elif new.size < old.size:
            raise VerificationError(
                what="checkpoint",
                where=f"log {self.origin}",
                reason=f"tree size {new.size} is smaller than the size {old.size} already "
                "cosigned (a rollback)",
            )
        elif new.size == old.size and new.root_hash != old.root_hash:
            raise SplitViewError(
                origin=self.origin,
                old_size=old.size,
                old_root=old.root_hash,
                new_size=new.size,
                new_root=new.root_hash,
                reason="two different roots for the same tree size",
            )
        else:
            try:
                verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
            except VerificationError as exc:
                raise SplitViewError(
                    origin=self.origin,
                    old_size=old.size,
                    old_root=old.root_hash,
                    new_size=new.size,
                    new_root=new.root_hash,
                    reason=f"not proven consistent ({exc.reason})",
                ) from exc
        sig = cosign_checkpoint(signed.note, self.key, time_s=time_s)
        return CosignResult(witness=replace(self, latest=new), cosignature=sig, checkpoint=new)
