"""API tokens and roles: who is asking, for which party, allowed to do what.

A token is ``skp_`` followed by 43 base64url characters: 256 random bits from
:mod:`secrets`. Only its SHA-256 is stored (a token has too much entropy for a dictionary
attack, so a plain hash suffices; a slow hash would only slow every request). The token's
``id`` (``tok_`` and 12 hex digits) is public: it names the token in lists and revocations.
A token is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

from skyparley.domain.ports import Store
from skyparley.domain.protocol import Protocol
from skyparley.domain.records import ROLES, Changes, TokenRecord
from skyparley.errors import AuthError, InputError, PermissionDeniedError

__all__ = [
    "TOKEN_PREFIX",
    "Principal",
    "authenticate",
    "hash_token",
    "new_token",
    "require",
]

TOKEN_PREFIX: Final = "skp_"  # noqa: S105 (a prefix, not a password)
_TOKEN_RE = re.compile(r"^skp_[A-Za-z0-9_-]{43}$")
_RANK: Final = {role: k for k, role in enumerate(ROLES)}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: its party, role and token id."""

    party: str
    role: str
    token_id: str


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token's text: what the store keeps."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_token(
    store: Store,
    protocol: Protocol,
    *,
    party: str,
    role: str,
    now_s: float,
    label: str | None = None,
) -> tuple[str, TokenRecord]:
    """Make and store a token for ``party`` with ``role``; returns the token text (shown
    once) and its record."""
    protocol.party(party)  # an InputError naming the party if it is not in the protocol
    if role not in ROLES:
        raise InputError(field="role", reason=f"must be one of {', '.join(ROLES)}, got {role!r}")
    if label is not None and (len(label) > 100 or not label.isprintable()):
        raise InputError(field="label", reason="must be at most 100 printable characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(
        id="tok_" + secrets.token_hex(6),
        party=party,
        role=role,
        token_sha256=hash_token(token),
        created_s=now_s,
        label=label,
    )
    store.commit(Changes(tokens=[record]))
    return token, record


def authenticate(store: Store, token: str | None) -> Principal:
    """The principal of a bearer token; :class:`AuthError` if it is missing, malformed,
    unknown or revoked (the message never says which of the last three)."""
    if not token:
        raise AuthError(reason="a bearer token is required (Authorization: Bearer skp_...)")
    if not _TOKEN_RE.fullmatch(token):
        raise AuthError(reason="the token is not valid")
    digest = hash_token(token)
    record = store.token_by_sha256(digest)
    if (
        record is None
        or not hmac.compare_digest(record.token_sha256, digest)
        or record.revoked_s is not None
    ):
        raise AuthError(reason="the token is not valid")
    return Principal(record.party, record.role, record.id)


def require(principal: Principal, role: str) -> None:
    """Refuse (:class:`PermissionDeniedError`) a principal whose role is below ``role``."""
    if _RANK[principal.role] < _RANK[role]:
        raise PermissionDeniedError(
            field="role",
            reason=f"this needs the {role} role; this token of {principal.party} is"
            f" {principal.role}",
        )
