"""What the two :class:`~skyparley.domain.ports.Store` adapters share.

- The stored JSON forms: notices and protected areas as their ``to_dict()`` JSON, free data
  (message content, finding and event data) as JSON text. Both adapters keep exactly these
  forms, so both give back the same values: a tuple inside ``content`` comes back a list,
  and a time finer than the millisecond comes back rounded down to it (the notice's RFC 3339
  form keeps milliseconds). Data that JSON cannot hold (NaN, a set) is refused with a
  ``ValueError`` before anything is written.
- How a conflict names its key (``notice russia/ru-1@2``), and the paging checks of reads.
"""

from __future__ import annotations

import json
from typing import Any, Final

from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.records import (
    AckRecord,
    EscalationRecord,
    FindingRecord,
    MessageRecord,
    NoticeRecord,
    ProtectedAreaRecord,
    TokenRecord,
)
from skyparley.domain.volumes import VolumeLimits
from skyparley.errors import ConflictError, InputError, NotFoundError
from skyparley.geo.areas import HARD_MAX_EXTENT_NM, AreaLimits

__all__ = [
    "STORED_LIMITS",
    "ack_key",
    "area_from_json",
    "area_json",
    "area_key",
    "check_page",
    "conflict",
    "dumps",
    "escalation_key",
    "finding_key",
    "loads",
    "message_key",
    "normalised",
    "notice_from_json",
    "notice_json",
    "notice_key",
    "token_hash_key",
    "token_id_key",
    "unknown_token",
]

STORED_LIMITS: Final = VolumeLimits(
    area=AreaLimits(max_vertices=None, max_area_km2=None, max_extent_nm=HARD_MAX_EXTENT_NM),
    max_window_s=1e12,
)
"""Limits for reading back what was stored: a volume was checked against the protocol's
limits when it was filed, and a stored one is never refused on the way out."""


def dumps(value: object) -> str:
    """Compact JSON with sorted keys; NaN and infinities are refused."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def loads(text: str) -> Any:
    """The value of a JSON text written by :func:`dumps`."""
    return json.loads(text)


def normalised(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as it comes back from storage (a fresh copy, through JSON)."""
    out: dict[str, Any] = loads(dumps(value))
    return out


def notice_json(record: NoticeRecord) -> str:
    """The stored form of a notice version."""
    return dumps(record.notice.to_dict())


def notice_from_json(text: str) -> OperationNotice:
    """A notice read back from :func:`notice_json`."""
    return OperationNotice.from_dict(loads(text), limits=STORED_LIMITS)


def area_json(record: ProtectedAreaRecord) -> str:
    """The stored form of a protected-area version."""
    return dumps(record.area.to_dict())


def area_from_json(text: str) -> ProtectedArea:
    """A protected area read back from :func:`area_json`."""
    return ProtectedArea.from_dict(loads(text), limits=STORED_LIMITS)


# ---------------------------------------------------------------- keys named in conflicts


def notice_key(r: NoticeRecord) -> str:
    return f"notice {r.notice.ref}"


def area_key(r: ProtectedAreaRecord) -> str:
    return f"protected area {r.area.ref}"


def finding_key(r: FindingRecord) -> str:
    return f"finding {r.id} for {r.reader}"


def message_key(r: MessageRecord) -> str:
    return f"message {r.id}"


def ack_key(r: AckRecord) -> str:
    return f"ack of message {r.message_id} by {r.party}"


def escalation_key(r: EscalationRecord) -> str:
    return f"escalation of message {r.message_id} for {r.party} to level {r.level}"


def token_id_key(r: TokenRecord) -> str:
    return f"token {r.id}"


def token_hash_key(r: TokenRecord) -> str:
    return f"the hash of token {r.id}"


def conflict(field: str, what: str) -> ConflictError:
    """The error for a key written twice: ``field`` is the :class:`Changes` list."""
    return ConflictError(field=field, reason=f"{what} is already stored; nothing was written")


def unknown_token(token_id: str) -> NotFoundError:
    """The error for revoking a token that does not exist."""
    return NotFoundError(
        field="revoked_tokens", reason=f"token {token_id} does not exist; nothing was written"
    )


def check_page(after: int, limit: int) -> None:
    """Refuse a negative ``limit`` (SQLite would read it as no limit at all)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InputError(field="limit", reason=f"must be a whole number from 0, got {limit!r}")
    if isinstance(after, bool) or not isinstance(after, int):
        raise InputError(field="after", reason=f"must be a whole number, got {after!r}")
