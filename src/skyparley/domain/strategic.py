"""Strategic checks: an operation notice against the others, the protected areas and the zones.

:func:`check_notice` is a pure function: the caller gives it the notice, the protocol, the
other parties' notices and protected areas (or a ``candidates`` function, so that a
space-time index can narrow them) and the time; it returns :class:`Finding` values. Nothing
here reads a clock or a store.

What is checked
---------------
Only a live notice (planned or active) is checked, volume by volume:

- ``notice_conflict``: against every live notice of *another* party (the latest version of
  each: an older one in the input is superseded), with the protocol's strategic buffers
  (:func:`~skyparley.domain.volumes.overlap_4d`: two volumes conflict when, laterally,
  vertically and in time, they come closer than the buffer).
- ``protected_area``: against every protected area of another party, with the same buffers.
- ``zone_closed``: the volume meets a zone closed to the notice's party (no buffer: a zone
  is an agreed boundary, not an aircraft).
- ``zone_notice``: the volume meets a zone with ``notice_hours`` and starts less than that
  long after the notice was filed (``filed_s``, or ``now_s`` when the notice carries none).
  The zone's ``owner`` is exempt from its own notice rule.

What a zone "meets" is its area, or for a line the region on the rule's ``side`` (see
:func:`side_region`).

Findings are built per reader
-----------------------------
A finding is addressed to one party (``reader``) and holds only what that party may see;
the same situation gives one finding per party concerned, all with the same ``id``:

=================  ============================  =========================================
kind               the notice's party sees       the other party sees
=================  ============================  =========================================
notice_conflict    the other party, the overlap  the notice's party, the overlap
protected_area     ``a protected area of <P>``;  the owner: the notice's party and the
                   the overlap and the area's    overlap ("russia was notified")
                   kind unless ``owner_only``
                   (then nothing more); the
                   whole area if ``public``
zone_notice,       the zone id and the part of   the zone's owner, if any: the notice's
zone_closed        the volume in the zone        party and that part
=================  ============================  =========================================

The overlap is the buffered intersection (geometry, band, interval): it lies within half
the buffers of both volumes, so it shows no more of the other side than that. The other
side's whole volume is added only where the sharing policy says ``volumes: all`` (and, for a
protected area, where its disclosure is ``public``).

Finding ids
-----------
``id`` is the first 32 hex digits of the SHA-256 of the RFC 8785 JSON of the kind and the two
objects, each named by type, party, id, version and volume index (for a zone: the protocol's
id and version and the zone's id). The two objects are sorted, so a check of A against B and
one of B against A give the same id, both readers see the same id, and a re-check gives it
again: a finding can be acknowledged. A new version of either object gives a new id.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import numpy as np
import shapely  # type: ignore[import-untyped]
from shapely.ops import split  # type: ignore[import-untyped]

from skyparley.domain import jcs
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.protocol import Protocol, StrategicBuffers, Zone
from skyparley.domain.times import format_time, parse_time
from skyparley.domain.volumes import Overlap4D, Volume4D, overlap_4d
from skyparley.errors import InputError
from skyparley.geo.areas import (
    HARD_MAX_EXTENT_NM,
    AreaLimits,
    Polygon,
    Shape,
    may_overlap,
    overlap,
)
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import destination, geodesic_inverse

__all__ = [
    "FINDING_KINDS",
    "SIDE_REACH_NM",
    "Candidates",
    "Finding",
    "ObjectRef",
    "check_notice",
    "finding_id",
    "side_region",
]

FINDING_KINDS: Final = ("notice_conflict", "protected_area", "zone_notice", "zone_closed")
SIDE_REACH_NM: Final = 400.0
"""How far from a line (and beyond its ends) the region on one of its sides reaches."""
_AMBIGUOUS_DEG: Final = 15.0
"""A line running within this angle of a side's direction has no such side."""
_SIDE_BEARING: Final = {"north": 0.0, "east": 90.0, "south": 180.0, "west": 270.0}
_REGION_LIMITS: Final = AreaLimits(
    max_vertices=None, max_area_km2=None, max_extent_nm=HARD_MAX_EXTENT_NM
)

Other: TypeAlias = OperationNotice | ProtectedArea
Candidates: TypeAlias = Callable[[Volume4D], Iterable[Other]]
"""Given a volume of the notice, the notices and protected areas that may come within the
buffers of it (more is fine; fewer misses findings)."""


@dataclass(frozen=True)
class ObjectRef:
    """The reader's own object a finding concerns: which version, and which of its volumes.

    ``type`` is ``operation_notice``, ``protected_area`` or ``zone`` (for a zone's owner;
    ``version`` is then the protocol's).
    """

    type: str
    party: str
    id: str
    version: int
    volume: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "type": self.type,
            "party": self.party,
            "id": self.id,
            "version": self.version,
            "volume": self.volume,
        }


@dataclass(frozen=True)
class Finding:
    """What one party learns from a strategic check (see the module for who sees what).

    ``other`` is the other party's id, ``"a protected area of <party>"`` or a zone id.
    ``overlap`` is the buffered intersection, or None where the rule withholds it
    (a protected area with ``owner_only`` disclosure, seen by another party).
    ``other_volume`` is the other side's whole volume, only where the protocol shares it.
    """

    id: str
    kind: str
    reader: str
    subject: ObjectRef
    other: str
    overlap: Overlap4D | None
    detail: str
    area_kind: str | None = None
    other_volume: Volume4D | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: what the reader may see, nothing else."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "reader": self.reader,
            "subject": self.subject.to_dict(),
            "other": self.other,
        }
        if self.area_kind is not None:
            out["protected_area_kind"] = self.area_kind
        out["overlap"] = None if self.overlap is None else self.overlap.to_dict()
        if self.other_volume is not None:
            out["other_volume"] = self.other_volume.to_dict()
        out["detail"] = self.detail
        return out


def finding_id(kind: str, a: list[Any], b: list[Any]) -> str:
    """The stable id of a finding of ``kind`` between two objects named by JSON keys.

    Order-free: ``finding_id(k, a, b) == finding_id(k, b, a)``.

    Examples
    --------
    >>> a = ["operation_notice", "russia", "ru-1", 1, 0]
    >>> b = ["operation_notice", "coalition", "co-7", 3, 0]
    >>> finding_id("notice_conflict", a, b) == finding_id("notice_conflict", b, a)
    True
    >>> len(finding_id("notice_conflict", a, b))
    32
    """
    pair = sorted([a, b], key=jcs.dumps)
    return hashlib.sha256(jcs.dumps([kind, *pair])).hexdigest()[:32]


def _key(obj: Other, volume: int) -> list[Any]:
    if isinstance(obj, OperationNotice):
        return ["operation_notice", obj.party, obj.id, obj.version, volume]
    return ["protected_area", obj.owner, obj.id, obj.version, volume]


def _ref(obj: Other, volume: int) -> ObjectRef:
    if isinstance(obj, OperationNotice):
        return ObjectRef("operation_notice", obj.party, obj.id, obj.version, volume)
    return ObjectRef("protected_area", obj.owner, obj.id, obj.version, volume)


# --------------------------------------------------------------------------- sides of lines


def side_region(
    line: Iterable[tuple[float, float]], side: str, *, reach_nm: float = SIDE_REACH_NM
) -> Shape:
    """The region on ``side`` of a line of ``(lon, lat)`` points (geodesic legs).

    The line is extended at both ends, as a border drawn across the side's direction: for
    an east or west rule, north along the meridian from its northern end and south from its
    southern end; for a north or south rule, west along the parallel from its western end
    and east from its eastern end. The extended line splits the disc centred on the middle
    of the line's chord, reaching ``reach_nm`` beyond the line's farthest point, into two
    halves; ``side`` picks the one that lies that way of the line (the half the line's
    normal at the middle of its chord points into, east rather than west), whatever the
    order of the points. The line itself (geodesic legs) is the exact boundary. A line that
    runs within 15 degrees of ``side``'s direction (a line running east has no east side)
    is refused, and so is one that, extended, crosses itself.

    A volume is on the side when any part of its area lies in this region: a volume that
    straddles the line is on both sides.

    Examples
    --------
    >>> from skyparley.geo.areas import covers
    >>> euphrates = [(38.40, 35.75), (39.01, 35.95), (40.14, 35.34), (40.92, 34.45)]
    >>> east = side_region(euphrates, "east")
    >>> # Hasakah (north-east of the river); Palmyra, Hama, Manbij (west of it):
    >>> covers(east, [40.75, 38.27, 36.75, 37.95], [36.50, 34.55, 35.13, 36.53]).tolist()
    [True, False, False, False]
    >>> covers(side_region(euphrates[::-1], "west"), [40.75, 38.27], [36.50, 34.55]).tolist()
    [False, True]
    """
    pts = tuple((float(lon), float(lat)) for lon, lat in line)
    return _side_region(pts, side, float(reach_nm))


_DENSIFY_M: Final = 20_000.0


@dataclass(frozen=True)
class _Plane:
    """An azimuthal equidistant drawing centred on a point: exact distances and azimuths
    from the centre (the projection :mod:`skyparley.geo.areas` draws in)."""

    lat_deg: float
    lon_deg: float

    def forward(self, lon: np.ndarray[Any, Any], lat: np.ndarray[Any, Any]) -> Any:
        n = lon.shape[0]
        g = geodesic_inverse(np.full(n, self.lat_deg), np.full(n, self.lon_deg), lat, lon)
        a = np.radians(g.bearing_deg)
        return np.column_stack([g.distance_m * np.sin(a), g.distance_m * np.cos(a)])

    def inverse(self, xy: np.ndarray[Any, Any]) -> tuple[list[float], list[float]]:
        n = xy.shape[0]
        brg = np.degrees(np.arctan2(xy[:, 0], xy[:, 1]))
        lat, lon = destination(
            np.full(n, self.lat_deg), np.full(n, self.lon_deg), brg, np.hypot(xy[:, 0], xy[:, 1])
        )
        return lon.tolist(), lat.tolist()


def _densified(
    points: list[tuple[float, float]],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Points along each geodesic leg, at most 20 km apart, as (lon, lat) arrays."""
    lon: list[float] = [points[0][0]]
    lat: list[float] = [points[0][1]]
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(points):
        g = geodesic_inverse([lat1], [lon1], [lat2], [lon2])
        n = max(1, math.ceil(float(g.distance_m[0]) / _DENSIFY_M))
        frac = np.arange(1, n + 1) / n
        la, lo = destination(np.full(n, lat1), np.full(n, lon1), g.bearing_deg[0],
                             g.distance_m[0] * frac)  # fmt: skip
        lon += lo.tolist()
        lat += la.tolist()
    return np.array(lon), np.array(lat)


def _ahead(lon: float, lat: float, bearing_deg: float, dist_m: float) -> tuple[float, float]:
    la, lo = destination([lat], [lon], [bearing_deg], [dist_m])
    return float(lo[0]), float(la[0])


def _leg(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float, float]:
    """Distance, initial bearing at ``a`` and bearing at ``b`` onwards (away from ``a``)."""
    g = geodesic_inverse([a[1]], [a[0]], [b[1]], [b[0]])
    return float(g.distance_m[0]), float(g.bearing_deg[0]), float(g.back_bearing_deg[0]) + 180.0


def _extension(
    end: tuple[float, float], other: tuple[float, float], side: str, dist_m: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Points from ``end`` outwards, at most 20 km apart: along the meridian (north from
    the northern end, south from the southern one) for an east or west rule, along the
    parallel (west from the western end, east from the eastern one) for north or south."""
    if side in ("east", "west"):
        return _densified([end, _ahead(*end, 0.0 if end[1] >= other[1] else 180.0, dist_m)])
    lon, lat = end
    westward = (other[0] - lon + 180.0) % 360.0 - 180.0 > 0.0
    per_deg_m = max(math.cos(math.radians(lat)), 1e-6) * math.pi / 180.0 * 6_378_137.0
    span_deg = min(dist_m / per_deg_m, 359.0)
    n = max(1, math.ceil(span_deg * per_deg_m / _DENSIFY_M))
    lons = lon + (-1.0 if westward else 1.0) * span_deg * np.arange(n + 1) / n
    return (lons + 180.0) % 360.0 - 180.0, np.full(n + 1, lat)


@functools.lru_cache(maxsize=64)
def _side_region(pts: tuple[tuple[float, float], ...], side: str, reach_nm: float) -> Shape:
    # A pure function of immutable values, cached: a protocol's lines are split once.
    if side not in _SIDE_BEARING:
        raise InputError(field="side", reason=f"must be one of north, south, east, west: {side!r}")
    if not (math.isfinite(reach_nm) and 0.0 < reach_nm <= HARD_MAX_EXTENT_NM / 2.0):
        raise InputError(field="reach_nm", reason=f"{reach_nm!r} NM is out of range")
    kept = [pts[0]] if pts else []
    for p in pts[1:]:
        if p != kept[-1]:
            kept.append(p)
    if len(kept) < 2:
        raise InputError(field="coordinates", reason="a line needs at least 2 distinct points")

    # Which half is the requested side: the left normal at the middle of the chord decides.
    chord, b0, _ = _leg(kept[0], kept[-1])
    if chord < 1.0:
        raise InputError(
            field="coordinates", reason="the line ends where it starts; it has no sides"
        )
    mid = _ahead(*kept[0], b0, chord / 2.0)
    _, along, _ = _leg(mid, kept[-1])
    c = math.cos(math.radians(along - 90.0 - _SIDE_BEARING[side]))
    if abs(c) < math.sin(math.radians(_AMBIGUOUS_DEG)):
        raise InputError(
            field="side",
            reason=f"the line runs {_compass(along)}; it has no {side} side (use "
            f"{'north or south' if side in ('east', 'west') else 'east or west'})",
        )
    want_left = c > 0.0

    # Draw around the chord's middle a disc reaching ``reach_nm`` beyond the farthest point
    # of the line, extend the line at its ends (meridians or parallels) until it leaves the
    # disc, and split the disc along it: the line itself (densified) divides the halves.
    plane = _Plane(mid[1], mid[0])
    lon, lat = _densified(kept)
    line_xy = plane.forward(lon, lat)
    radius_m = float(np.max(np.hypot(line_xy[:, 0], line_xy[:, 1]))) + reach_nm * NM_M
    if radius_m > HARD_MAX_EXTENT_NM * NM_M * 0.98:
        raise InputError(
            field="coordinates",
            reason=f"the line is too long to tell its sides within {reach_nm:g} NM",
        )
    ext = 2.0 * radius_m
    first = plane.forward(*_extension(kept[0], kept[-1], side, ext))[::-1]
    last = plane.forward(*_extension(kept[-1], kept[0], side, ext))
    full = np.vstack([first[:-1], line_xy, last[1:]])
    cut = shapely.LineString(full)
    disc = shapely.Point(0.0, 0.0).buffer(radius_m, quad_segs=32)
    halves = list(shapely.get_parts(split(disc, cut)))
    if not cut.is_simple or len(halves) != 2:
        raise InputError(
            field="coordinates",
            reason=f"the line, extended at its ends, crosses itself within "
            f"{reach_nm:g} NM; it has no two sides",
        )
    k = line_xy.shape[0] // 2
    p, q = line_xy[k - 1], line_xy[k]
    t = (q - p) / max(float(np.hypot(*(q - p))), 1e-9)
    probe = shapely.Point(*((p + q) / 2.0 + np.array([-t[1], t[0]]) * 10.0))
    inside = [h.contains(probe) for h in halves]
    if sum(inside) != 1:  # pragma: no cover - a point 10 m off the line is in one half
        raise InputError(field="coordinates", reason="the line's sides cannot be told apart")
    left = halves[inside.index(True)]
    half = left if want_left else halves[inside.index(False)]
    ring_lon, ring_lat = plane.inverse(np.asarray(half.exterior.coords)[:-1])
    try:
        return Polygon(tuple(zip(ring_lon, ring_lat, strict=True)), limits=_REGION_LIMITS)
    except InputError as exc:  # pragma: no cover - the split halves are simple
        raise InputError(
            field="coordinates",
            reason=f"the line cannot be split into two sides within {reach_nm:g} NM: the "
            f"region {exc.reason}",
        ) from None


_COMPASS: Final = ("north", "north-east", "east", "south-east", "south", "south-west", "west",
                   "north-west")  # fmt: skip


def _compass(bearing_deg: float) -> str:
    return _COMPASS[round((bearing_deg % 360.0) / 45.0) % 8]


def _zone_regions(protocol: Protocol) -> list[tuple[Zone, Shape]]:
    """The zones whose rules a notice can break, each with the region the rules cover."""
    out: list[tuple[Zone, Shape]] = []
    for k, zone in enumerate(protocol.zones):
        rules = zone.rules
        if rules.notice_hours is None and not rules.closed_to:
            continue
        if zone.area is not None:
            out.append((zone, zone.area))
            continue
        if rules.side is None:
            raise InputError(
                field=f"zones[{k}].rules.side",
                reason=f"zone {zone.id!r}: a rule on a line needs the side it applies to",
            )
        try:
            out.append((zone, side_region(zone.line, rules.side)))
        except InputError as exc:
            where = "rules.side" if exc.field == "side" else "geometry"
            raise InputError(
                field=f"zones[{k}].{where}", reason=f"zone {zone.id!r}: {exc.reason}"
            ) from None
    return out


# --------------------------------------------------------------------------- the check


def _latest(items: Iterable[Other]) -> list[Other]:
    """Each notice or area once, in its latest version (first seen among equals)."""
    best: dict[tuple[str, str, str], Other] = {}
    for item in items:
        if isinstance(item, OperationNotice):
            key = ("operation_notice", item.party, item.id)
        elif isinstance(item, ProtectedArea):
            key = ("protected_area", item.owner, item.id)
        else:
            raise TypeError(f"not an OperationNotice or a ProtectedArea: {item!r}")
        seen = best.get(key)
        if seen is None or item.version > seen.version:
            best[key] = item
    return list(best.values())


def _hours(seconds: float) -> str:
    return f"{seconds / 3600.0:.3g} h"


def _near(a: Volume4D, b: Volume4D, s: StrategicBuffers) -> bool:
    """False only where :func:`overlap_4d` is None for sure: windows or bands too far apart
    (the same inequalities), or centres too far apart (:func:`may_overlap`). Cheap enough
    for every pair of volumes, before the exact test."""
    half_s = s.time_min * 60.0 / 2.0
    wa, wb = a.window, b.window
    if not max(wa.start_s, wb.start_s) - half_s < min(wa.end_s, wb.end_s) + half_s:
        return False
    half_ft = s.vertical_ft / 2.0
    ba, bb = a.band, b.band
    if not max(ba.lower_ft, bb.lower_ft) - half_ft < min(ba.upper_ft, bb.upper_ft) + half_ft:
        return False
    return may_overlap(a.area, b.area, buffer_nm=s.lateral_nm)


@dataclass(frozen=True)
class _Context:
    notice: OperationNotice
    protocol: Protocol
    filed_s: float

    @property
    def share_all(self) -> bool:
        return self.protocol.sharing.volumes == "all"

    def overlap(self, a: Volume4D, b: Volume4D) -> Overlap4D | None:
        s = self.protocol.strategic
        if not _near(a, b, s):
            return None
        return overlap_4d(
            a, b, lateral_nm=s.lateral_nm, vertical_ft=s.vertical_ft, time_min=s.time_min
        )

    def buffers(self) -> str:
        s = self.protocol.strategic
        return f"{s.lateral_nm:g} NM, {s.vertical_ft:g} ft, {s.time_min:g} min"


def _notice_conflict(
    ctx: _Context, k: int, vol: Volume4D, other: OperationNotice, j: int, o: Overlap4D
) -> list[Finding]:
    n = ctx.notice
    fid = finding_id("notice_conflict", _key(n, k), _key(other, j))
    share = ctx.share_all
    return [
        Finding(
            fid, "notice_conflict", n.party, _ref(n, k), other.party, o,
            f"volume {k} comes within the buffers ({ctx.buffers()}) of an operation "
            f"notified by {other.party}",
            other_volume=other.volumes[j] if share else None,
        ),
        Finding(
            fid, "notice_conflict", other.party, _ref(other, j), n.party, o,
            f"an operation notified by {n.party} comes within the buffers ({ctx.buffers()}) "
            f"of volume {j}",
            other_volume=vol if share else None,
        ),
    ]  # fmt: skip


def _protected_area(
    ctx: _Context, k: int, vol: Volume4D, area: ProtectedArea, o: Overlap4D
) -> list[Finding]:
    n = ctx.notice
    fid = finding_id("protected_area", _key(n, k), _key(area, 0))
    rule = area.disclosure_under(ctx.protocol.sharing.protected_areas)
    name = f"a protected area of {area.owner}"
    if rule == "owner_only":
        seen = Finding(
            fid, "protected_area", n.party, _ref(n, k), name, None,
            f"volume {k} affects {name}; its owner shares nothing more (owner_only)",
        )  # fmt: skip
        shown = "that a protected area of yours is affected, nothing more"
    elif rule == "on_conflict":
        seen = Finding(
            fid, "protected_area", n.party, _ref(n, k), name, o,
            f"volume {k} comes within the buffers ({ctx.buffers()}) of {name} "
            f"({area.kind}); only the overlap is shown",
            area_kind=area.kind,
        )  # fmt: skip
        shown = "the overlap only"
    else:
        seen = Finding(
            fid, "protected_area", n.party, _ref(n, k), name, o,
            f"volume {k} comes within the buffers ({ctx.buffers()}) of {name} "
            f"({area.kind}, public)",
            area_kind=area.kind, other_volume=area.volume,
        )  # fmt: skip
        shown = "the overlap and the whole area (public)"
    told = Finding(
        fid, "protected_area", area.owner, _ref(area, 0), n.party, o,
        f"{n.party} was notified that its volume {k} comes within the buffers of this "
        f"protected area; it was shown {shown}",
        area_kind=area.kind, other_volume=vol if ctx.share_all else None,
    )  # fmt: skip
    return [seen, told]


def _zone_findings(
    ctx: _Context, k: int, vol: Volume4D, zone: Zone, region: Shape
) -> list[Finding]:
    n = ctx.notice
    rules = zone.rules
    found: list[tuple[str, str]] = []
    if n.party in rules.closed_to:
        found.append(("zone_closed", f"volume {k} enters {zone.id}, which is closed to {n.party}"))
    if rules.notice_hours is not None and n.party != rules.owner:
        lead = vol.window.start_s - ctx.filed_s
        need = rules.notice_hours * 3600.0
        if lead < need:
            when = (
                f"{_hours(lead)} before volume {k} starts"
                if lead >= 0.0
                else f"{_hours(-lead)} after volume {k} started"
            )
            where = f"{rules.side} of {zone.id}" if zone.kind == "line" else f"in {zone.id}"
            found.append(
                (
                    "zone_notice",
                    (
                        f"filed {when} ({format_time(vol.window.start_s)}), {where}; the zone "
                        f"asks for {rules.notice_hours:g} h notice"
                    ),
                )
            )
    if not found:
        return []
    part = overlap(vol.area, region)
    if part is None:
        return []
    o = Overlap4D(part, vol.band.lower_ft, vol.band.upper_ft, vol.window.start_s, vol.window.end_s)
    zone_key = ["zone", ctx.protocol.id, ctx.protocol.version, zone.id, 0]
    out: list[Finding] = []
    for kind, detail in found:
        fid = finding_id(kind, _key(n, k), zone_key)
        out.append(Finding(fid, kind, n.party, _ref(n, k), zone.id, o, detail))
        owner = rules.owner
        if owner is not None and owner != n.party:
            subject = ObjectRef("zone", owner, zone.id, ctx.protocol.version)
            out.append(
                Finding(
                    fid, kind, owner, subject, n.party, o,
                    f"an operation notified by {n.party}: {detail}",
                    other_volume=vol if ctx.share_all else None,
                )
            )  # fmt: skip
    return out


_KIND_ORDER: Final = {k: i for i, k in enumerate(FINDING_KINDS)}


def check_notice(
    notice: OperationNotice,
    protocol: Protocol,
    *,
    notices: Iterable[OperationNotice] = (),
    protected_areas: Iterable[ProtectedArea] = (),
    candidates: Candidates | None = None,
    now_s: float,
) -> tuple[Finding, ...]:
    """Check a notice against other parties' notices and protected areas and the zones.

    ``notices`` and ``protected_areas`` are everything to check against; the notice's own
    party's items, ended and cancelled notices and superseded versions are skipped. Or give
    ``candidates`` instead (a space-time index's query), called once per volume of the
    notice. ``now_s`` is the time of the check, taken as the filing time when the notice
    has no ``filed_s``. A notice that is not live (ended, cancelled) gives no findings.

    Returns the findings for every party concerned (see the module): the notice's party's
    first, then the others' by reader. The notice is clear when none is addressed to its
    party (``all(f.reader != notice.party for f in findings)``).
    """
    protocol.party(notice.party)
    now = parse_time(now_s, field="now_s")
    pool: list[Other] = [*notices, *protected_areas]
    if candidates is not None and pool:
        raise ValueError("give either candidates or notices and protected_areas, not both")
    if not notice.is_live:
        return ()
    ctx = _Context(notice, protocol, notice.filed_s if notice.filed_s is not None else now)
    regions = _zone_regions(protocol)
    everyone = _latest(pool)
    findings: list[Finding] = []
    for k, vol in enumerate(notice.volumes):
        others = everyone if candidates is None else _latest(candidates(vol))
        for other in others:
            if isinstance(other, OperationNotice):
                if other.party == notice.party or not other.is_live:
                    continue
                for j, ov in enumerate(other.volumes):
                    o = ctx.overlap(vol, ov)
                    if o is not None:
                        findings += _notice_conflict(ctx, k, vol, other, j, o)
            elif other.owner != notice.party:
                o = ctx.overlap(vol, other.volume)
                if o is not None:
                    findings += _protected_area(ctx, k, vol, other, o)
        for zone, region in regions:
            findings += _zone_findings(ctx, k, vol, zone, region)
    findings.sort(
        key=lambda f: (
            f.reader != notice.party,
            f.reader,
            f.subject.type,
            f.subject.id,
            f.subject.volume,
            _KIND_ORDER[f.kind],
            f.other,
            f.id,
        )
    )
    return tuple(findings)
