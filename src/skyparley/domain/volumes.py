"""4D volumes: a horizontal area, an altitude band and a time window, and their overlaps.

A :class:`Volume4D` is what an operation notice or a protected area occupies. Its JSON form
is ``{"area": <shape>, "lower": "FL150" | ft, "upper": ..., "start": "RFC 3339",
"end": "RFC 3339"}`` (shapes as :func:`skyparley.geo.areas.from_geojson` reads them); any
other member is refused, so a volume cannot carry a target, a weapon or a purpose.

Buffers
-------
:func:`overlap_4d` grows each volume by half of each buffer (``lateral_nm``,
``vertical_ft``, ``time_min``) and intersects them, in the three dimensions alike: two
volumes overlap when, in all three, they come closer than the buffer or overlap. Touching
(a band ending where the other starts, a window ending when the other starts) is not an
overlap unless that buffer is above 0. The result is symmetric and holds only the common
part: the overlapping geometry, band and interval, never more of either volume.

Flight levels are taken at their nominal height (FL150 is 15,000 ft): they are pressure
altitudes, which the vertical buffer must cover.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from skyparley.domain.times import format_time, parse_time
from skyparley.errors import InputError
from skyparley.geo.areas import (
    DEFAULT_AREA_LIMITS,
    AreaLimits,
    Overlap,
    Shape,
    from_geojson,
    overlap,
    to_geojson,
)

__all__ = [
    "DEFAULT_MAX_WINDOW_S",
    "DEFAULT_VOLUME_LIMITS",
    "MAX_ALT_FT",
    "MIN_ALT_FT",
    "AltitudeBand",
    "Overlap4D",
    "TimeWindow",
    "Volume4D",
    "VolumeLimits",
    "band_overlap",
    "overlap_4d",
    "parse_altitude_ft",
    "window_overlap",
]

MIN_ALT_FT: Final = -2_000.0
"""Lowest altitude a band may reach (the Dead Sea shore is at -1,410 ft)."""
MAX_ALT_FT: Final = 100_000.0
"""Highest altitude a band may reach."""
DEFAULT_MAX_WINDOW_S: Final = 7 * 86_400.0
"""Longest time window by default: 7 days."""

_FL = re.compile(r"^FL\s?(\d{1,3})$", re.IGNORECASE)


def parse_altitude_ft(value: object, *, field: str) -> float:
    """Feet AMSL from a number of feet or a flight level such as ``"FL150"``.

    Examples
    --------
    >>> parse_altitude_ft("FL150", field="lower"), parse_altitude_ft(2500, field="lower")
    (15000.0, 2500.0)
    >>> parse_altitude_ft("15000 m", field="volumes[0].upper")
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: volumes[0].upper: '15000 m' is not feet or a flight level \
like FL150
    """
    if isinstance(value, str):
        m = _FL.match(value.strip())
        if m is None:
            raise InputError(
                field=field, reason=f"{value!r} is not feet or a flight level like FL150"
            )
        return float(m[1]) * 100.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field=field, reason=f"{value!r} is not feet or a flight level like FL150")
    if not math.isfinite(value):
        raise InputError(field=field, reason=f"{value!r} is not a finite altitude")
    return float(value)


@dataclass(frozen=True)
class AltitudeBand:
    """From ``lower_ft`` to ``upper_ft`` AMSL, lower below upper, within the altitude limits.

    Examples
    --------
    >>> AltitudeBand(15000.0, 10000.0)
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: upper_ft: 10000.0 ft is not above the lower limit 15000.0 ft
    """

    lower_ft: float
    upper_ft: float

    def __post_init__(self) -> None:
        for name in ("lower_ft", "upper_ft"):
            v = parse_altitude_ft(getattr(self, name), field=name)
            if not MIN_ALT_FT <= v <= MAX_ALT_FT:
                raise InputError(
                    field=name,
                    reason=f"{v!r} ft is outside [{MIN_ALT_FT:,.0f}, {MAX_ALT_FT:,.0f}] ft",
                )
            object.__setattr__(self, name, v)
        if not self.lower_ft < self.upper_ft:
            raise InputError(
                field="upper_ft",
                reason=f"{self.upper_ft!r} ft is not above the lower limit {self.lower_ft!r} ft",
            )


@dataclass(frozen=True)
class TimeWindow:
    """From ``start_s`` to ``end_s`` (epoch seconds, UTC), at most ``max_length_s`` long.

    Examples
    --------
    >>> TimeWindow(0.0, 8 * 86400.0)
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: end_s: the window lasts 8 days; at most 7 days
    """

    start_s: float
    end_s: float
    max_length_s: float = field(
        default=DEFAULT_MAX_WINDOW_S, kw_only=True, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for name in ("start_s", "end_s"):
            object.__setattr__(self, name, parse_time(getattr(self, name), field=name))
        if not self.start_s < self.end_s:
            raise InputError(
                field="end_s",
                reason=f"{format_time(self.end_s)} is not after the start"
                f" {format_time(self.start_s)}",
            )
        length = self.end_s - self.start_s
        if length > self.max_length_s:
            raise InputError(
                field="end_s",
                reason=f"the window lasts {_duration(length)}; at most"
                f" {_duration(self.max_length_s)}",
            )


def _duration(s: float) -> str:
    if s >= 86_400.0:
        return f"{s / 86_400.0:g} days"
    if s >= 3_600.0:
        return f"{s / 3_600.0:g} h"
    return f"{s:g} s"


@dataclass(frozen=True)
class VolumeLimits:
    """What a volume may be: its area's limits and the longest time window."""

    area: AreaLimits = DEFAULT_AREA_LIMITS
    max_window_s: float = DEFAULT_MAX_WINDOW_S

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_window_s) and self.max_window_s > 0.0):
            raise InputError(field="max_window_s", reason="must be a positive number of seconds")


DEFAULT_VOLUME_LIMITS: Final = VolumeLimits()
"""250,000 km², 1,000 vertices, 700 NM from the centre, 7 days."""

_VOLUME_KEYS: Final = ("area", "lower", "upper", "start", "end")
_RENAMED: Final = {"lower_ft": "lower", "upper_ft": "upper", "start_s": "start", "end_s": "end"}


@dataclass(frozen=True)
class Volume4D:
    """A horizontal area, an altitude band and a time window.

    Examples
    --------
    >>> v = Volume4D.from_dict({"area": {"type": "Circle", "center": [36.2, 35.4],
    ...                                  "radius_nm": 10}, "lower": "FL100", "upper": 25000,
    ...                         "start": "2015-10-10T09:00:00Z", "end": "2015-10-10T11:00:00Z"})
    >>> v.band, v.window.end_s - v.window.start_s
    (AltitudeBand(lower_ft=10000.0, upper_ft=25000.0), 7200.0)
    >>> v.to_dict()["lower"], v.to_dict()["start"]
    (10000.0, '2015-10-10T09:00:00Z')
    >>> Volume4D.from_dict({**v.to_dict(), "target": "x"}, field="volumes[0]")
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: volumes[0].target: is not a field of a volume (allowed: area, \
lower, upper, start, end)
    """

    area: Shape
    band: AltitudeBand
    window: TimeWindow

    @classmethod
    def from_dict(
        cls,
        obj: object,
        *,
        field: str = "volume",
        limits: VolumeLimits = DEFAULT_VOLUME_LIMITS,
    ) -> Volume4D:
        """Read a volume from its JSON form; errors name the JSON path under ``field``."""
        if not isinstance(obj, Mapping):
            raise InputError(field=field, reason="must be an object")
        extra = sorted(str(k) for k in obj if k not in _VOLUME_KEYS)
        if extra:
            others = f"; also {', '.join(extra[1:])}" if len(extra) > 1 else ""
            raise InputError(
                field=f"{field}.{extra[0]}",
                reason=f"is not a field of a volume (allowed: {', '.join(_VOLUME_KEYS)}){others}",
            )
        for key in _VOLUME_KEYS:
            if key not in obj:
                raise InputError(field=f"{field}.{key}", reason="is missing")
        area = from_geojson(obj["area"], field=f"{field}.area", limits=limits.area)
        lower = parse_altitude_ft(obj["lower"], field=f"{field}.lower")
        upper = parse_altitude_ft(obj["upper"], field=f"{field}.upper")
        start = parse_time(obj["start"], field=f"{field}.start")
        end = parse_time(obj["end"], field=f"{field}.end")
        try:
            band = AltitudeBand(lower, upper)
            window = TimeWindow(start, end, max_length_s=limits.max_window_s)
        except InputError as exc:
            raise InputError(
                field=f"{field}.{_RENAMED.get(exc.field, exc.field)}", reason=exc.reason
            ) from None
        return cls(area, band, window)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that :meth:`from_dict` reads back (feet, RFC 3339 to the ms)."""
        return {
            "area": to_geojson(self.area),
            "lower": self.band.lower_ft,
            "upper": self.band.upper_ft,
            "start": format_time(self.window.start_s),
            "end": format_time(self.window.end_s),
        }


@dataclass(frozen=True)
class Overlap4D:
    """The common part of two buffered volumes: geometry, band and interval, nothing else."""

    area: Overlap
    lower_ft: float
    upper_ft: float
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the overlap geometry as RFC 7946 GeoJSON, the band, the interval."""
        return {
            "area": self.area.to_geojson(),
            "area_km2": self.area.area_km2,
            "lower": self.lower_ft,
            "upper": self.upper_ft,
            "start": format_time(self.start_s),
            "end": format_time(self.end_s),
        }


def _interval_overlap(
    a: tuple[float, float], b: tuple[float, float], buffer: float
) -> tuple[float, float] | None:
    lo = max(a[0], b[0]) - buffer / 2.0
    hi = min(a[1], b[1]) + buffer / 2.0
    return (lo, hi) if lo < hi else None


def _buffer(value: float, *, field: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0.0):
        raise InputError(field=field, reason=f"{value!r} is not a finite number >= 0")
    return v


def band_overlap(
    a: AltitudeBand, b: AltitudeBand, *, vertical_ft: float
) -> tuple[float, float] | None:
    """The bands, each grown by ``vertical_ft / 2``, in common: ``(lower_ft, upper_ft)``.

    Examples
    --------
    >>> a, b = AltitudeBand(0.0, 10000.0), AltitudeBand(10000.0, 20000.0)
    >>> band_overlap(a, b, vertical_ft=0.0) is None, band_overlap(a, b, vertical_ft=1000.0)
    (True, (9500.0, 10500.0))
    """
    v = _buffer(vertical_ft, field="vertical_ft")
    return _interval_overlap((a.lower_ft, a.upper_ft), (b.lower_ft, b.upper_ft), v)


def window_overlap(a: TimeWindow, b: TimeWindow, *, time_min: float) -> tuple[float, float] | None:
    """The windows, each grown by ``time_min / 2``, in common: ``(start_s, end_s)``.

    Examples
    --------
    >>> a, b = TimeWindow(0.0, 3600.0), TimeWindow(3600.0, 7200.0)
    >>> window_overlap(a, b, time_min=0.0) is None, window_overlap(a, b, time_min=10.0)
    (True, (3300.0, 3900.0))
    """
    t = _buffer(time_min, field="time_min") * 60.0
    return _interval_overlap((a.start_s, a.end_s), (b.start_s, b.end_s), t)


def overlap_4d(
    a: Volume4D, b: Volume4D, *, lateral_nm: float, vertical_ft: float, time_min: float
) -> Overlap4D | None:
    """Where and when two volumes overlap, with the buffers; None if they keep clear.

    Symmetric: ``overlap_4d(a, b)`` and ``overlap_4d(b, a)`` give the same overlap. Time and
    band are checked first (cheap), the geometry last.

    Examples
    --------
    >>> def vol(lon, start, end):
    ...     return Volume4D.from_dict({"area": {"type": "Circle", "center": [lon, 35.0],
    ...         "radius_nm": 5}, "lower": 0, "upper": "FL100", "start": start, "end": end})
    >>> a = vol(36.0, "2015-10-10T09:00:00Z", "2015-10-10T10:00:00Z")
    >>> b = vol(36.1, "2015-10-10T10:00:00Z", "2015-10-10T11:00:00Z")
    >>> overlap_4d(a, b, lateral_nm=5.0, vertical_ft=1000.0, time_min=0.0) is None
    True
    >>> o = overlap_4d(a, b, lateral_nm=5.0, vertical_ft=1000.0, time_min=10.0)
    >>> o.to_dict()["start"], o.to_dict()["end"], o.upper_ft
    ('2015-10-10T09:55:00Z', '2015-10-10T10:05:00Z', 10500.0)
    """
    lateral = _buffer(lateral_nm, field="lateral_nm")
    window = window_overlap(a.window, b.window, time_min=time_min)
    band = band_overlap(a.band, b.band, vertical_ft=vertical_ft)
    if window is None or band is None:
        return None
    area = overlap(a.area, b.area, buffer_nm=lateral)
    if area is None:
        return None
    return Overlap4D(area, band[0], band[1], window[0], window[1])
