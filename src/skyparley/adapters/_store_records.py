"""What the two :class:`~skyparley.domain.ports.Store` adapters share.

- The stored JSON forms: notices and protected areas as their ``to_dict()`` JSON, free data
  (message content, finding and event data) as JSON text. Both adapters keep exactly these
  forms, so both give back the same values: a tuple inside ``content`` comes back a list,
  and a time finer than the millisecond comes back rounded down to it (the notice's RFC 3339
  form keeps milliseconds). Data that JSON cannot hold (NaN, a set) is refused with a
  ``ValueError`` before anything is written.
- How a conflict names its key (``notice russia/ru-1@2``), and the paging checks of reads.

The JSON text is the standard library's (sorted keys, no spaces, no ASCII escaping, floats
as ``repr`` writes them); ``orjson`` writes and reads it where it gives the same text or
value, some five to twenty times faster on a finding's geometry (see :func:`dumps` and
:func:`loads`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import orjson

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
    "dumps_read_back",
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


_ORJSON_OPTIONS: Final = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
)
_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"')
_DIGITS_AS_ZERO: Final = bytes.maketrans(b"123456789", b"000000000")


def _json_dumps(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _refuse(obj: object) -> Any:
    raise TypeError


def _fast_dumps(value: object) -> tuple[str, Any] | None:
    """orjson's text of ``value`` and its value read back, where the text is provably the
    standard library's; None elsewhere.

    orjson escapes strings as the standard library's C encoder does (every code point
    checked), sorts members by code point as ``sort_keys`` does, and writes a float with the
    digits and the form of ``repr`` except in two ranges: below 1e-4 (``0.00005`` for
    ``5e-05``) and in exponent form (``1e-7`` for ``1e-07``). Its text is kept when it took
    the value with no help (only exact ``dict``, ``list``, ``tuple``, ``str``, ``int``,
    ``float``, ``bool`` and ``None``, names all ``str``), neither range appears outside
    strings, and reading it back gives a value equal to ``value``: NaN and infinity, which
    it writes as ``null`` where the standard library refuses them, and an enum or UUID,
    which it writes as its value, fail that test (so does a tuple: it takes the slow way).
    """
    try:
        data = orjson.dumps(value, default=_refuse, option=_ORJSON_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    # what lies outside strings (cut the slow way where a quote or a backslash is escaped)
    bare = _STRING.sub(b"", data) if b'\\"' in data else b"".join(data.split(b'"')[0::2])
    if b"e" in bare.replace(b"true", b"").replace(b"false", b"") or b"0.0000" in bare:
        return None
    back = orjson.loads(data)
    if back != value:
        return None
    return data.decode("utf-8"), back


def dumps(value: object) -> str:
    """Compact JSON with sorted keys; NaN and infinities are refused."""
    fast = _fast_dumps(value)
    return fast[0] if fast is not None else _json_dumps(value)


def dumps_read_back(value: object) -> tuple[str, Any]:
    """:func:`dumps` of ``value``, and the value :func:`loads` reads back from it (a fresh
    copy), without reading the text a second time where the fast path already did."""
    fast = _fast_dumps(value)
    if fast is not None:
        return fast
    text = _json_dumps(value)
    return text, loads(text)


def loads(text: str) -> Any:
    """The value of a JSON text written by :func:`dumps`.

    orjson reads it where it gives what the standard library gives: it turns an integer
    beyond 64 bits into a float, so a text with a run of 19 digits takes the standard
    library, as does one it refuses (NaN, a lone surrogate escaped, a number too large).
    """
    data = text.encode("utf-8", "surrogatepass")
    if b"0" * 19 not in data.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def normalised(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` as it comes back from storage (a fresh copy, through JSON)."""
    out: dict[str, Any] = dumps_read_back(value)[1]
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
