"""UTC times: RFC 3339 text at the edges, epoch seconds inside."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime

from skyparley.errors import InputError

__all__ = ["MAX_TIME_S", "MIN_TIME_S", "format_time", "in_time_range", "parse_time"]

MIN_TIME_S = -62_135_596_800.0
"""0001-01-01T00:00:00Z: the earliest time RFC 3339 text can show, in epoch seconds."""
MAX_TIME_S = 253_402_300_799.0
"""9999-12-31T23:59:59Z: the latest time RFC 3339 text can show, in epoch seconds."""
RANGE_REASON = "is not a time between the years 1 and 9999 (epoch seconds expected, not ms)"
"""Why a time out of range is refused (most often epoch milliseconds given as seconds)."""


def in_time_range(t_s: float) -> bool:
    """Whether ``t_s`` (epoch seconds) can be written as RFC 3339 text.

    Examples
    --------
    >>> in_time_range(1444467600.0), in_time_range(1444467600000.0)
    (True, False)
    """
    return MIN_TIME_S <= t_s <= MAX_TIME_S


def parse_time(value: str | float, *, field: str) -> float:
    """Epoch seconds from a number or an RFC 3339 / ISO 8601 time (UTC if no offset).

    Examples
    --------
    >>> parse_time("2015-10-10T09:00:00Z", field="start")
    1444467600.0
    >>> parse_time("1444467600.5", field="start")
    1444467600.5
    >>> parse_time("yesterday", field="start")
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: start: 'yesterday' is not epoch seconds or an RFC 3339 time
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        t = float(value)
    else:
        text = str(value).strip()
        try:
            t = float(text)
        except ValueError:
            try:
                dt = datetime.fromisoformat(text.replace("z", "Z"))
            except ValueError:
                raise InputError(
                    field=field, reason=f"{text!r} is not epoch seconds or an RFC 3339 time"
                ) from None
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
            t = dt.timestamp()
    if not math.isfinite(t):
        raise InputError(field=field, reason=f"{value!r} is not a finite time")
    if not in_time_range(t):
        raise InputError(field=field, reason=f"{value!r} {RANGE_REASON}")
    return t


def format_time(t_s: float) -> str:
    """RFC 3339 UTC text with ``Z``, to the millisecond when needed.

    Examples
    --------
    >>> format_time(1444467600.0)
    '2015-10-10T09:00:00Z'
    >>> format_time(1444467600.25)
    '2015-10-10T09:00:00.250Z'
    """
    return _format_time(t_s)


@functools.lru_cache(maxsize=4096)
def _format_time(t_s: float) -> str:
    # A filing writes the same few times dozens of times over (its notice's window, the
    # time it was filed, each message's deadline): remembered, each costs a lookup.
    dt = datetime.fromtimestamp(t_s, tz=UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond // 1000:03d}"
    return text + "Z"
