"""Ed25519 keys named and identified as in C2SP signed-note.

A key has a *name* (a party id, or a schema-less URL such as ``skyparley.example/log``) and a
*signature type*: ``0x01`` for plain Ed25519 note signatures (the service signs checkpoints
with it, parties sign entries with it) and ``0x04`` for timestamped Ed25519 cosignatures of
C2SP tlog-cosignature (a party signing a checkpoint as a witness). The same Ed25519 key pair
can serve both types: the type enters the key id and the signed messages differ, so the
signatures cannot be confused.

- key id: ``SHA-256(name || 0x0A || type || 32-byte public key)[:4]``;
- verifier key text (a *vkey*): ``<name>+<8 hex digits of the key id>+<base64(type || key)>``,
  e.g. ``PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW``;
- private keys travel as PKCS #8 PEM, optionally encrypted with a passphrase. The name is not
  in the PEM: the caller keeps it beside the file (the protocol lists it with the public key).

Pure: no file is read or written here, only bytes in and out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from skyparley.errors import LedgerInputError

__all__ = [
    "COSIGNATURE_V1",
    "ED25519",
    "SigningKey",
    "VerifierKey",
    "check_key_name",
    "cosignature_message",
    "demo_key",
    "generate_key",
    "key_id",
    "load_private_key_pem",
    "parse_verifier_key",
]

ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (C2SP signed-note)."""
COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 cosignatures (C2SP tlog-cosignature, v1)."""

_TYPES = {ED25519: "Ed25519", COSIGNATURE_V1: "Ed25519 cosignature/v1"}
_PUBLIC_KEY_SIZE = 32
_SIGNATURE_SIZE = 64
_MAX_TIMESTAMP = 2**63 - 1


def check_key_name(name: str, *, field: str = "name") -> str:
    """``name`` if it is a valid signed-note key name: non-empty, no spaces, no ``+``."""
    if not isinstance(name, str) or not name:
        raise LedgerInputError(field=field, reason="a key name must be non-empty text")
    if "+" in name or any(c.isspace() or ord(c) < 0x20 for c in name):
        raise LedgerInputError(
            field=field, reason=f"key name {name!r} contains a space, a control character or '+'"
        )
    return name


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte key id of signed-note: SHA-256(name || 0x0A || type || public key)[:4].

    Examples
    --------
    >>> pub = base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")[1:]
    >>> key_id("PeterNeumann", ED25519, pub).hex()
    'c74f20a3'
    """
    data = name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key
    return hashlib.sha256(data).digest()[:4]


def cosignature_message(note_text: bytes, time_s: int) -> bytes:
    """What a cosignature/v1 signs: ``cosignature/v1\\ntime <time_s>\\n`` + the checkpoint body.

    Examples
    --------
    >>> cosignature_message(b"example.com/log\\n1\\nAAAA\\n", 1679315147)
    b'cosignature/v1\\ntime 1679315147\\nexample.com/log\\n1\\nAAAA\\n'
    """
    return b"cosignature/v1\ntime %d\n" % time_s + note_text


def _check_type(sig_type: int, field: str) -> None:
    if sig_type not in _TYPES:
        raise LedgerInputError(
            field=field,
            reason=f"signature type 0x{sig_type:02x} is not supported (0x01 Ed25519 or 0x04 "
            "Ed25519 cosignature/v1)",
        )


def _check_time(time_s: int) -> None:
    if isinstance(time_s, bool) or not isinstance(time_s, int) or not 0 <= time_s <= _MAX_TIMESTAMP:
        raise LedgerInputError(
            field="time_s", reason=f"must be whole POSIX seconds in [0, 2**63), got {time_s!r}"
        )


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public key with its name and signature type: what a verifier is configured with.

    ``public_key`` holds the 32 raw Ed25519 bytes (RFC 8032 encoding).

    Examples
    --------
    >>> text = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    >>> vkey = parse_verifier_key(text)
    >>> vkey.name, vkey.sig_type, vkey.key_id.hex()
    ('PeterNeumann', 1, 'c74f20a3')
    >>> vkey.to_text() == text
    True
    """

    name: str
    public_key: bytes
    sig_type: int = ED25519
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        _check_type(self.sig_type, "sig_type")
        if not isinstance(self.public_key, bytes) or len(self.public_key) != _PUBLIC_KEY_SIZE:
            raise LedgerInputError(
                field="public_key", reason=f"an Ed25519 public key is {_PUBLIC_KEY_SIZE} bytes"
            )
        try:
            key = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError as exc:
            raise LedgerInputError(field="public_key", reason=str(exc)) from None
        object.__setattr__(self, "_key", key)

    @property
    def key_id(self) -> bytes:
        """The 4-byte signed-note key id of this name, type and key."""
        return key_id(self.name, self.sig_type, self.public_key)

    def to_text(self) -> str:
        """The vkey text ``name+hexid+base64(type || key)``."""
        material = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{material}"

    def with_type(self, sig_type: int) -> VerifierKey:
        """The same name and key used with another signature type (its key id differs)."""
        return VerifierKey(name=self.name, public_key=self.public_key, sig_type=sig_type)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is a valid raw Ed25519 signature of ``message`` by this key."""
        if len(signature) != _SIGNATURE_SIZE:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def verify_note_signature(self, note_text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (the bytes after the key id) signs ``note_text`` for this type.

        Type 0x01: an Ed25519 signature of the note text. Type 0x04: an 8-byte big-endian
        timestamp and an Ed25519 signature of :func:`cosignature_message`.
        """
        if self.sig_type == COSIGNATURE_V1:
            if len(signature) != 8 + _SIGNATURE_SIZE:
                return False
            (time_s,) = struct.unpack(">Q", signature[:8])
            if time_s > _MAX_TIMESTAMP:
                return False
            return self.verify(cosignature_message(note_text, time_s), signature[8:])
        return self.verify(note_text, signature)


def parse_verifier_key(text: str) -> VerifierKey:
    """A :class:`VerifierKey` from its vkey text; the key id in the text must match the key.

    Examples
    --------
    >>> parse_verifier_key("PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    Traceback (most recent call last):
    ...
    skyparley.errors.LedgerInputError: verifier_key: key id 00000000 does not match the key \
(c74f20a3)
    """
    fld = "verifier_key"
    # The name has no '+', the key id is hex: split twice; the base64 may itself hold '+'.
    parts = text.strip().split("+", 2) if isinstance(text, str) else []
    if len(parts) != 3:
        raise LedgerInputError(field=fld, reason="expected name+keyid+base64(type||key)")
    name, hex_id, material = parts
    check_key_name(name, field=fld)
    if len(hex_id) != 8 or hex_id.lower() != hex_id:
        raise LedgerInputError(field=fld, reason=f"key id {hex_id!r} is not 8 lowercase hex digits")
    try:
        wanted_id = bytes.fromhex(hex_id)
        raw = base64.b64decode(material, validate=True)
    except (ValueError, binascii.Error):
        raise LedgerInputError(
            field=fld, reason="the key id or the key is not valid hex/base64"
        ) from None
    if not raw:
        raise LedgerInputError(field=fld, reason="the key material is empty")
    _check_type(raw[0], fld)
    if len(raw) != 1 + _PUBLIC_KEY_SIZE or base64.b64encode(raw).decode("ascii") != material:
        raise LedgerInputError(field=fld, reason="the key is not a canonical 32-byte Ed25519 key")
    vkey = VerifierKey(name=name, public_key=raw[1:], sig_type=raw[0])
    if vkey.key_id != wanted_id:
        raise LedgerInputError(
            field=fld, reason=f"key id {hex_id} does not match the key ({vkey.key_id.hex()})"
        )
    return vkey


@dataclass(frozen=True, slots=True, eq=False)
class SigningKey:
    """A private Ed25519 key with its name and signature type: what a signer holds.

    Compared by identity; its ``repr`` does not show the secret.

    Examples
    --------
    >>> key = SigningKey.from_seed("EnochRoot", bytes(32))
    >>> key.verifier.to_text()
    'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop'
    >>> key.verifier.verify(b"hi", key.sign(b"hi"))
    True
    """

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    sig_type: int = ED25519

    def __post_init__(self) -> None:
        check_key_name(self.name)
        _check_type(self.sig_type, "sig_type")
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise LedgerInputError(field="private_key", reason="must be an Ed25519 private key")

    @classmethod
    def from_seed(cls, name: str, seed: bytes, sig_type: int = ED25519) -> SigningKey:
        """The key from its 32-byte RFC 8032 seed (deterministic keys for tests and vectors)."""
        try:
            private = Ed25519PrivateKey.from_private_bytes(seed)
        except ValueError as exc:
            raise LedgerInputError(field="seed", reason=str(exc)) from None
        return cls(name=name, private_key=private, sig_type=sig_type)

    @property
    def public_key(self) -> bytes:
        """The 32 raw bytes of the public key."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def verifier(self) -> VerifierKey:
        """The matching :class:`VerifierKey` (same name and type)."""
        return VerifierKey(name=self.name, public_key=self.public_key, sig_type=self.sig_type)

    @property
    def key_id(self) -> bytes:
        """The 4-byte signed-note key id."""
        return key_id(self.name, self.sig_type, self.public_key)

    def with_type(self, sig_type: int) -> SigningKey:
        """The same key used with another signature type (e.g. a party cosigning as witness)."""
        return SigningKey(name=self.name, private_key=self.private_key, sig_type=sig_type)

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of ``message``."""
        return self.private_key.sign(message)

    def sign_note_text(self, note_text: bytes, *, time_s: int | None = None) -> bytes:
        """The signature bytes of a note signature line (after the key id) for this type.

        Type 0x04 needs ``time_s`` (whole POSIX seconds of the injected clock) and returns the
        8-byte big-endian timestamp followed by the signature of :func:`cosignature_message`.
        """
        if self.sig_type == COSIGNATURE_V1:
            if time_s is None:
                raise LedgerInputError(field="time_s", reason="a cosignature needs the time")
            _check_time(time_s)
            return struct.pack(">Q", time_s) + self.sign(cosignature_message(note_text, time_s))
        return self.sign(note_text)

    def to_pkcs8_pem(self, passphrase: bytes | None = None) -> bytes:
        """The private key as PKCS #8 PEM, encrypted when a non-empty passphrase is given."""
        encryption: serialization.KeySerializationEncryption
        if passphrase:
            encryption = serialization.BestAvailableEncryption(passphrase)
        else:
            encryption = serialization.NoEncryption()
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


def generate_key(name: str, sig_type: int = ED25519) -> SigningKey:
    """A new random Ed25519 key pair named ``name`` (randomness from the OS, via cryptography).

    Examples
    --------
    >>> key = generate_key("blue")
    >>> parse_verifier_key(key.verifier.to_text()) == key.verifier
    True
    """
    check_key_name(name)
    _check_type(sig_type, "sig_type")
    return SigningKey(name=name, private_key=Ed25519PrivateKey.generate(), sig_type=sig_type)


def load_private_key_pem(
    name: str, pem: bytes, passphrase: bytes | None = None, sig_type: int = ED25519
) -> SigningKey:
    """The :class:`SigningKey` named ``name`` from PKCS #8 PEM (as ``to_pkcs8_pem`` writes it).

    A wrong or missing passphrase, or a key of another algorithm, is a
    :class:`~skyparley.errors.LedgerInputError` on field ``private_key``.
    """
    try:
        private = serialization.load_pem_private_key(pem, password=passphrase or None)
    except TypeError:
        reason = (
            "the key is encrypted: a passphrase is needed"
            if not passphrase
            else "the key is not encrypted: no passphrase is needed"
        )
        raise LedgerInputError(field="private_key", reason=reason) from None
    except (ValueError, UnsupportedAlgorithm):
        raise LedgerInputError(
            field="private_key", reason="not a PKCS #8 PEM key, or the passphrase is wrong"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise LedgerInputError(field="private_key", reason="not an Ed25519 key")
    return SigningKey(name=name, private_key=private, sig_type=sig_type)


DEMO_SEED_PREFIX = b"skyparley demo key, never for real use: "
"""The public seed prefix of the demo keys (see :func:`demo_key`)."""


def demo_key(name: str) -> SigningKey:
    """The demo signing key of ``name``, derived from a public seed.

    The Syria 2015 scenario signs its ledger entries with these keys; they protect nothing
    and must never be used for real traffic.

    Examples
    --------
    >>> demo_key("coalition").verifier.to_text()
    'coalition+bc2eeb08+AUsr1tjbe0PPex5qbZhLigF7G+lYJ+9uXNiwCv/eKf0P'
    """
    return SigningKey.from_seed(name, hashlib.sha256(DEMO_SEED_PREFIX + name.encode()).digest())
