"""Horizontal areas on WGS84: polygons, circles and corridors, their buffers and overlaps.

Three shapes describe where an operation or a protected area lies:

- :class:`Polygon`: GeoJSON-style rings of ``[lon, lat]`` positions (an exterior ring and
  optional holes), in either winding order. A ring that does not end on its first position
  is closed automatically (RFC 7946 asks for closed rings; skyparley accepts both and
  always writes them closed). Edges are geodesics (the shortest path on the ellipsoid), as
  aviation boundaries and :class:`pyproj.Geod` take them; an edge along a parallel needs
  intermediate vertices.
- :class:`Circle`: a centre and ``radius_nm`` (the geodesic distance from the centre).
- :class:`Corridor`: a line of ``[lon, lat]`` positions (geodesic legs) and
  ``half_width_nm``: every point within that distance of the line, round at the ends.

Right everywhere on Earth
-------------------------
No planar work is ever done in longitude and latitude. Each shape, or each pair of shapes,
is drawn in a local azimuthal equidistant projection centred on it (on the midpoint of the
two centres for a pair), computed with Karney's geodesics (:class:`pyproj.Geod`): a point's
distance and azimuth from the centre are kept exactly, at any latitude, at the poles and
across the antimeridian. Edges are densified every 20 km before they are projected, so each
geodesic edge stays within a metre of its drawing. A box from 170E to 170W is therefore 20
degrees wide, not 340, and a ring of vertices around a pole encloses the polar cap.

A pair of small shapes (their reaches and the buffer adding up to at most 200 NM) below 80
degrees of latitude is drawn instead in a shared frame: the one centred on the node of a
fixed lattice (nodes about a degree of arc apart) nearest the pair's midpoint, at most
about 80 km from it. Each shape keeps its last few drawings in such frames, so in a busy
area every shape is projected and grown once and later pairs pay only the intersection.
The node is chosen from the pair's midpoint alone, so the rule stays symmetric.

The area of a shape is the smaller side of its boundary; the limits (at most 700 NM from the
centre to any point by default, and :data:`HARD_MAX_EXTENT_NM` at most) keep it far below a
hemisphere, so either winding order describes the same area.

Accuracy
--------
The projection keeps distances from its centre exactly; across that direction it stretches
them by ``(r/R) / sin(r/R)``, about ``1 + r²/6R²`` at a distance r from the centre: 0.05 %
at 200 NM, 0.7 % at 700 NM (the default limit), 1.4 % at 1,000 NM; in a shared frame
every point drawn lies within about 350 NM of the centre (0.17 %). Buffers and corridor
widths are drawn there, so they are right within that factor, and never short: round parts
are drawn with polygons that circumscribe the true arcs (at most 0.12 % long). Areas are
geodesic areas (Karney) of the drawn boundaries.

Overlaps and buffers
--------------------
:func:`overlap` with ``buffer_nm = d`` intersects each shape grown by ``d/2``. The rule is
symmetric by construction, and the two grown shapes meet exactly when the shapes come
closer than ``d`` (the midpoint of the shortest path between them lies within ``d/2`` of
both). The result lies within ``d/2`` of each shape, so it tells each side no more about the
other's area than the overlap. Touching shapes (a common part of no area) do not overlap.
The result is written as RFC 7946 GeoJSON: longitudes in [-180, 180], pieces split at the
antimeridian, a polar cap closed along the pole, exterior rings counter-clockwise.

Examples
--------
>>> box = from_geojson({"type": "Polygon", "coordinates": [[[170, 0], [-170, 0],
...                     [-170, 1], [170, 1]]]}, field="area")
>>> b = bbox_deg(box)
>>> b.west_deg, b.east_deg, round(b.width_deg, 6)
(170.0, -170.0, 20.0)
>>> round(area_km2(box))
248716
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import shapely  # type: ignore[import-untyped]
from pyproj import Geod
from shapely import affinity
from shapely.geometry.polygon import orient  # type: ignore[import-untyped]

from skyparley.errors import InputError
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import WGS84_A_M, WGS84_E2

__all__ = [
    "DEFAULT_AREA_LIMITS",
    "HARD_MAX_EXTENT_NM",
    "AreaLimits",
    "BBox",
    "Circle",
    "Corridor",
    "Overlap",
    "Polygon",
    "Shape",
    "area_km2",
    "bbox_deg",
    "buffered",
    "covers",
    "from_geojson",
    "may_overlap",
    "overlap",
    "to_geojson",
]

Array = npt.NDArray[np.float64]
LonLat: TypeAlias = tuple[float, float]
"""A position ``(lon_deg, lat_deg)``, in GeoJSON order."""
Ring: TypeAlias = tuple[LonLat, ...]
"""A closed ring of positions (the last equals the first)."""
PolygonCoords: TypeAlias = tuple[Ring, ...]
"""An exterior ring followed by its holes."""

HARD_MAX_EXTENT_NM: Final = 1000.0
"""No limits may let a shape reach farther than this from its centre (1.4 % accuracy)."""
_DENSIFY_M: Final = 20_000.0
"""Longest straight piece of a geodesic edge once projected (it bows by under a metre)."""
_CIRCLE_SEGMENTS: Final = 128
_QUAD_SEGS: Final = 16
_CIRCLE_OUT: Final = 1.0 / math.cos(math.pi / _CIRCLE_SEGMENTS)
"""Radius factor that makes a polygon of ``_CIRCLE_SEGMENTS`` sides circumscribe a circle."""
_BUFFER_OUT: Final = 1.0 / math.cos(math.pi / (4 * _QUAD_SEGS))
"""The same for the round joins of shapely's buffers (``_QUAD_SEGS`` per quarter circle)."""
_SLIVER: Final = 1e-9
"""Intersections smaller than this fraction of the smaller shape are rounding, not overlap."""
_OUT_DECIMALS: Final = 7
"""Decimal places of an overlap's positions: a centimetre at most (RFC 7946, section 11.2,
finds 6, 10 cm, enough), and a third less text than full precision in every finding that
carries one."""
_GRID_DEG: Final = 1e-9
"""Output positions are snapped to this grid (about 0.1 mm) when split at the antimeridian."""

_BOUNDARY_CACHE: Final = 4
"""Grown boundaries a circle keeps (see :meth:`_Prepared.circle_boundary`)."""
_M0_M: Final = WGS84_A_M * (1.0 - WGS84_E2)
"""Smallest radius of curvature of WGS84 (north-south at the equator), in metres: along a
geodesic of length s the normal turns by at most s / M0."""
_FAST_MAX_LAT: Final = 89.0
_FAST_MAX_STEP_DEG: Final = 90.0
_TILE_DEG: Final = 1.0
"""Spacing of the lattice of shared frame centres (see :func:`_pair_frame`), in degrees."""
_TILE_MAX_LAT: Final = 80.0
"""Above this latitude a pair is drawn in its own frame (the lattice's rows crowd there)."""
_TILE_MAX_REACH_M: Final = 200.0 * NM_M
"""Pairs whose extents and buffer add up to more than this are drawn in their own frame."""
_TILE_CACHE: Final = 4
"""Drawings a shape keeps (per lattice node and growth; see :meth:`_Prepared.tile_drawing`)."""

_GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class AreaLimits:
    """What a shape may be: vertex count, area and reach from its centre.

    ``None`` lifts a limit (buffered shapes and overlaps are built without them);
    ``max_extent_nm`` always applies, since it bounds the accuracy (see the module).
    """

    max_vertices: int | None = 1000
    max_area_km2: float | None = 250_000.0
    max_extent_nm: float = 700.0

    def __post_init__(self) -> None:
        if self.max_vertices is not None and self.max_vertices < 3:
            raise InputError(field="max_vertices", reason="must be at least 3")
        if self.max_area_km2 is not None and not (
            math.isfinite(self.max_area_km2) and self.max_area_km2 > 0.0
        ):
            raise InputError(field="max_area_km2", reason="must be a positive number")
        if not 0.0 < self.max_extent_nm <= HARD_MAX_EXTENT_NM:
            raise InputError(
                field="max_extent_nm",
                reason=f"must be above 0 and at most {HARD_MAX_EXTENT_NM:g} NM",
            )


DEFAULT_AREA_LIMITS: Final = AreaLimits()
"""At most 1,000 vertices, 250,000 km² and 700 NM from the centre to any point."""
_DERIVED_LIMITS: Final = AreaLimits(
    max_vertices=None, max_area_km2=None, max_extent_nm=HARD_MAX_EXTENT_NM
)


# --------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class _Frame:
    """A local azimuthal equidistant projection (metres) centred on a point."""

    lat_deg: float
    lon_deg: float

    def forward(self, lon_deg: Array, lat_deg: Array) -> tuple[Array, Array]:
        n = lon_deg.shape[0]
        az, _, dist = _GEOD.inv(
            np.full(n, self.lon_deg), np.full(n, self.lat_deg), lon_deg, lat_deg
        )
        a = np.radians(np.asarray(az, dtype=np.float64))
        d = np.asarray(dist, dtype=np.float64)
        return d * np.sin(a), d * np.cos(a)

    def inverse(self, x: Array, y: Array) -> tuple[Array, Array]:
        n = x.shape[0]
        az = np.degrees(np.arctan2(x, y))
        lon, lat, _ = _GEOD.fwd(
            np.full(n, self.lon_deg), np.full(n, self.lat_deg), az, np.hypot(x, y)
        )
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _unit(lon_deg: Array, lat_deg: Array) -> Array:
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _frame_of(u: Array) -> _Frame | None:
    """The frame at the direction of ``u`` (any length), or None when it is ambiguous."""
    norm = float(np.linalg.norm(u))
    if norm < 1e-9:
        return None
    x, y, z = (float(c) / norm for c in u)
    lat = math.degrees(math.asin(max(-1.0, min(1.0, z))))
    lon = math.degrees(math.atan2(y, x)) if abs(lat) < 90.0 else 0.0
    return _Frame(lat, lon)


def _pair_frame(pa: _Prepared, pb: _Prepared, d_m: float) -> tuple[_Frame | None, bool]:
    """The frame a pair is drawn in, and whether it is a shared lattice frame.

    The pair's midpoint (the normalized sum of the centres' unit vectors, symmetric in the
    pair) is rounded to a lattice of nodes: rows every :data:`_TILE_DEG` of latitude, each
    cut into ``round(360 cos(lat) / _TILE_DEG)`` equal steps of longitude, so that nodes are
    about :data:`_TILE_DEG` of arc apart everywhere and a node lies within about 80 km of
    the midpoint. Every pair near a node shares its frame, so each shape is drawn there once
    (see :meth:`_Prepared.tile_drawing`). Large pairs (their reach above
    :data:`_TILE_MAX_REACH_M`) and pairs above :data:`_TILE_MAX_LAT` are drawn in a frame at
    the midpoint itself. None: antipodal centres (they cannot reach each other).
    """
    (ax, ay, az), (bx, by, bz) = pa.unit, pb.unit
    x, y, z = ax + bx, ay + by, az + bz
    norm = math.sqrt(x * x + y * y + z * z)
    if pa.extent_m + pb.extent_m + d_m > _TILE_MAX_REACH_M or norm < 1e-9:
        return _frame_of(np.array(pa.unit) + np.array(pb.unit)), False
    lat = math.degrees(math.asin(max(-1.0, min(1.0, z / norm))))
    if abs(lat) > _TILE_MAX_LAT:
        return _frame_of(np.array(pa.unit) + np.array(pb.unit)), False
    row_lat = round(lat / _TILE_DEG) * _TILE_DEG
    steps = max(1, round(360.0 * math.cos(math.radians(row_lat)) / _TILE_DEG))
    k = round(math.degrees(math.atan2(y, x)) * steps / 360.0) % steps
    lon = k * 360.0 / steps
    return _Frame(float(row_lat), lon - 360.0 if lon >= 180.0 else lon), True


def _densify(lon: Array, lat: Array) -> tuple[Array, Array]:
    """Insert points along each geodesic edge so no piece is longer than 20 km.

    Each edge is walked from the same end whichever way the ring runs, so an edge that two
    shapes share gets the same points in both.
    """
    lon1, lat1, lon2, lat2 = lon[:-1], lat[:-1], lon[1:], lat[1:]
    swap = (lat2 < lat1) | ((lat2 == lat1) & (lon2 < lon1))
    slon, slat = np.where(swap, lon2, lon1), np.where(swap, lat2, lat1)
    elon, elat = np.where(swap, lon1, lon2), np.where(swap, lat1, lat2)
    az, _, dist = _GEOD.inv(slon, slat, elon, elat)
    az = np.asarray(az, dtype=np.float64)
    dist = np.asarray(dist, dtype=np.float64)
    n = np.maximum(1, np.ceil(dist / _DENSIFY_M)).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(n)])
    total = int(starts[-1]) + 1
    out_lon = np.empty(total)
    out_lat = np.empty(total)
    out_lon[starts[:-1]] = lon1
    out_lat[starts[:-1]] = lat1
    out_lon[-1], out_lat[-1] = lon[-1], lat[-1]
    extra = n - 1
    if int(extra.sum()):
        edge = np.repeat(np.arange(n.shape[0]), extra)
        first = np.cumsum(extra) - extra
        j = np.arange(edge.shape[0]) - np.repeat(first, extra) + 1
        frac = np.where(swap[edge], n[edge] - j, j) / n[edge]
        plon, plat, _ = _GEOD.fwd(slon[edge], slat[edge], az[edge], dist[edge] * frac)
        out_lon[starts[edge] + j] = plon
        out_lat[starts[edge] + j] = plat
    return out_lon, out_lat


def _geodesic_area_m2(geom: Any, frame: _Frame) -> float:
    """Geodesic area of a projected (multi)polygon, holes taken out."""
    total = 0.0
    for poly in _polygons(geom):
        for k, ring in enumerate([poly.exterior, *poly.interiors]):
            xy = np.asarray(ring.coords, dtype=np.float64)
            lon, lat = frame.inverse(xy[:, 0], xy[:, 1])
            a, _ = _GEOD.polygon_area_perimeter(lon, lat)
            total += abs(a) if k == 0 else -abs(a)
    return total


def _largest(geom: Any) -> Any:
    """The largest polygon part (buffers are connected; GEOS may add specks of rounding)."""
    return max(_polygons(geom), key=lambda p: p.area)


def _polygons(geom: Any) -> list[Any]:
    """The polygon parts of any shapely geometry (lines and points of a collection dropped)."""
    if geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


# --------------------------------------------------------------------------- validation


def _check_position(lon: float, lat: float, *, field: str) -> LonLat:
    lon_f, lat_f = float(lon), float(lat)
    if not (math.isfinite(lon_f) and math.isfinite(lat_f)):
        raise InputError(field=field, reason=f"[{lon!r}, {lat!r}] is not a pair of finite numbers")
    if not -180.0 <= lon_f <= 180.0:
        raise InputError(field=field, reason=f"longitude {lon_f!r} is outside [-180, 180]")
    if not -90.0 <= lat_f <= 90.0:
        raise InputError(field=field, reason=f"latitude {lat_f!r} is outside [-90, 90]")
    return lon_f, lat_f


def _same_point(p: LonLat) -> LonLat:
    """A key that is equal for positions naming the same point (poles, ±180)."""
    lon, lat = p
    if abs(lat) == 90.0:
        return 0.0, lat
    return (180.0 if lon == -180.0 else lon), lat


def _ring(positions: Sequence[Sequence[float]], *, field: str) -> Ring:
    pts = [_check_position(p[0], p[1], field=f"{field}[{i}]") for i, p in enumerate(positions)]
    if pts and _same_point(pts[0]) != _same_point(pts[-1]):
        pts.append(pts[0])
    if len({_same_point(p) for p in pts}) < 3:
        raise InputError(field=field, reason="a ring needs at least 3 distinct positions")
    return tuple(pts)


def _check_length_nm(value: float, *, field: str, limits: AreaLimits) -> float:
    v = float(value)
    if not (math.isfinite(v) and 0.0 < v <= limits.max_extent_nm):
        raise InputError(
            field=field,
            reason=f"{value!r} NM is not above 0 and at most {limits.max_extent_nm:g} NM",
        )
    return v


def _check_extent(extent_m: float, *, field: str, limits: AreaLimits) -> None:
    if extent_m > limits.max_extent_nm * NM_M:
        raise InputError(
            field=field,
            reason=f"reaches {extent_m / NM_M:,.0f} NM from its centre; at most"
            f" {limits.max_extent_nm:g} NM",
        )


def _check_area(area_m2: float, *, field: str, limits: AreaLimits) -> None:
    if limits.max_area_km2 is not None and area_m2 > limits.max_area_km2 * 1e6:
        raise InputError(
            field=field,
            reason=f"covers {area_m2 / 1e6:,.0f} km²; at most {limits.max_area_km2:,.0f} km²",
        )


def _check_vertices(count: int, *, field: str, limits: AreaLimits) -> None:
    if limits.max_vertices is not None and count > limits.max_vertices:
        raise InputError(field=field, reason=f"has {count} vertices; at most {limits.max_vertices}")


_WHERE = re.compile(r"^(?P<what>[^\[]*)\[(?P<x>\S+) (?P<y>\S+)\]")


def _validity_reason(geom: Any, frame: _Frame) -> str:
    """Why a projected polygon is not valid, in words, with the place in lon/lat."""
    raw = str(shapely.is_valid_reason(geom))
    m = _WHERE.match(raw)
    if m is None:
        return f"is not a valid polygon ({raw})"
    lon, lat = frame.inverse(np.array([float(m["x"])]), np.array([float(m["y"])]))
    where = f"near [{lon[0]:.6f}, {lat[0]:.6f}]"
    what = m["what"].strip().lower()
    if "self-intersection" in what:
        return f"the boundary crosses itself {where} (a bowtie?); a polygon must be simple"
    return f"is not a valid polygon: {what} {where}"


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class _Prepared:
    frame: _Frame
    """Projection centred on the shape."""
    rings: tuple[tuple[Array, Array], ...]
    """Densified lon/lat rings (polygon), boundary (circle) or centre line (corridor)."""
    outline: tuple[Array, Array]
    """Densified lon/lat outer boundary, for the bounding box."""
    extent_m: float
    """Farthest reach of the shape from the frame's centre."""
    area_m2: float
    unit: tuple[float, float, float] = field(init=False)
    """Unit vector of the frame's centre (geodetic lat/lon taken as spherical)."""
    boundaries: dict[float, tuple[Array, Array]] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )
    """A circle's grown boundaries in lon/lat, by radius in metres (a few buffers at most)."""
    tiles: dict[tuple[float, float, float], Any] = field(
        init=False, default_factory=dict, compare=False, repr=False
    )
    """The shape's plane drawings in lattice frames, by (node lat, node lon, growth in m)."""

    def __post_init__(self) -> None:
        lat, lon = math.radians(self.frame.lat_deg), math.radians(self.frame.lon_deg)
        unit = (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))
        object.__setattr__(self, "unit", unit)

    def circle_boundary(self, radius_m: float) -> tuple[Array, Array]:
        """The boundary of the circle of ``radius_m`` around the centre, cached by radius.

        Overlaps are checked with the protocol's one lateral buffer, so a circle is grown by
        one or two radii; the cache is cleared past :data:`_BOUNDARY_CACHE` radii.
        """
        cached = self.boundaries.get(radius_m)
        if cached is None:
            if len(self.boundaries) >= _BOUNDARY_CACHE:
                self.boundaries.clear()
            cached = self.boundaries[radius_m] = _circle_boundary(self.frame, radius_m)
        return cached

    def tile_drawing(self, key: tuple[float, float, float]) -> Any:
        """The cached drawing for ``key`` (made most recent), or None."""
        geom = self.tiles.pop(key, None)
        if geom is not None:
            self.tiles[key] = geom
        return geom

    def keep_tile_drawing(self, key: tuple[float, float, float], geom: Any) -> None:
        """Keep a drawing, dropping the least recently used past :data:`_TILE_CACHE`."""
        while len(self.tiles) >= _TILE_CACHE:
            self.tiles.pop(next(iter(self.tiles)), None)
        self.tiles[key] = geom


def _centred_frame(lon: Array, lat: Array, *, field: str) -> _Frame:
    frame = _frame_of(_unit(lon, lat).sum(axis=0))
    if frame is None:
        raise InputError(field=field, reason="spreads over the whole Earth; it has no centre")
    return frame


@dataclass(frozen=True)
class Polygon:
    """A polygon of geodesic edges: ``exterior`` ring and ``holes``, positions ``(lon, lat)``.

    Validated on construction (errors name ``coordinates[k][i]`` as in GeoJSON): positions
    finite and in range, rings closed (added when missing), at least 3 distinct vertices,
    no self-intersection, holes inside, and the ``limits``.

    Examples
    --------
    >>> p = Polygon(((0.0, 0.0), (0.1, 0.0), (0.1, 0.1), (0.0, 0.1)))
    >>> p.exterior[-1], round(area_km2(p), 1)
    ((0.0, 0.0), 123.1)
    >>> Polygon(((0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)))
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: coordinates: the boundary crosses itself near [0.500000, \
0.500057] (a bowtie?); a polygon must be simple
    """

    exterior: Ring
    holes: tuple[Ring, ...] = ()
    limits: AreaLimits = field(default=DEFAULT_AREA_LIMITS, kw_only=True, compare=False, repr=False)
    _prepared: _Prepared = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        rings = [_ring(self.exterior, field="coordinates[0]")]
        rings += [_ring(h, field=f"coordinates[{k + 1}]") for k, h in enumerate(self.holes)]
        object.__setattr__(self, "exterior", rings[0])
        object.__setattr__(self, "holes", tuple(rings[1:]))
        _check_vertices(sum(len(r) - 1 for r in rings), field="coordinates", limits=self.limits)
        arrays = [(np.array([p[0] for p in r]), np.array([p[1] for p in r])) for r in rings]
        dense = tuple(_densify(lon, lat) for lon, lat in arrays)
        frame = _centred_frame(dense[0][0][:-1], dense[0][1][:-1], field="coordinates")
        all_lon = np.concatenate([d[0] for d in dense])
        all_lat = np.concatenate([d[1] for d in dense])
        _, _, dist = _GEOD.inv(
            np.full(all_lon.shape[0], frame.lon_deg),
            np.full(all_lon.shape[0], frame.lat_deg),
            all_lon,
            all_lat,
        )
        extent = float(np.max(dist))
        _check_extent(extent, field="coordinates", limits=self.limits)
        geom = _plane_polygon(dense, frame)
        if not geom.is_valid:
            raise InputError(field="coordinates", reason=_validity_reason(geom, frame))
        area = 0.0
        for k, (lon, lat) in enumerate(arrays):
            a, _ = _GEOD.polygon_area_perimeter(lon, lat)
            area += abs(a) if k == 0 else -abs(a)
        _check_area(area, field="coordinates", limits=self.limits)
        prepared = _Prepared(frame, dense, dense[0], extent, area)
        object.__setattr__(self, "_prepared", prepared)


@dataclass(frozen=True)
class Circle:
    """Every point within ``radius_nm`` (geodesic) of a centre; may sit on a pole.

    Examples
    --------
    >>> c = Circle(center_lat_deg=90.0, center_lon_deg=0.0, radius_nm=60.0,
    ...            limits=AreaLimits(max_area_km2=None))
    >>> b = bbox_deg(c)
    >>> b.west_deg, b.east_deg, round(b.south_deg, 2), b.north_deg
    (-180.0, 180.0, 89.0, 90.0)
    """

    center_lat_deg: float
    center_lon_deg: float
    radius_nm: float
    limits: AreaLimits = field(default=DEFAULT_AREA_LIMITS, kw_only=True, compare=False, repr=False)
    _prepared: _Prepared = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        lon, lat = _check_position(self.center_lon_deg, self.center_lat_deg, field="center")
        radius = _check_length_nm(self.radius_nm, field="radius_nm", limits=self.limits)
        object.__setattr__(self, "center_lon_deg", lon)
        object.__setattr__(self, "center_lat_deg", lat)
        object.__setattr__(self, "radius_nm", radius)
        frame = _Frame(lat, 0.0 if abs(lat) == 90.0 else lon)
        blon, blat = _circle_boundary(frame, radius * NM_M)
        area, _ = _GEOD.polygon_area_perimeter(blon, blat)
        _check_area(abs(area), field="radius_nm", limits=self.limits)
        prepared = _Prepared(frame, ((blon, blat),), (blon, blat), radius * NM_M, abs(area))
        object.__setattr__(self, "_prepared", prepared)


@dataclass(frozen=True)
class Corridor:
    """Every point within ``half_width_nm`` of a line of geodesic legs (round ends).

    Examples
    --------
    >>> c = Corridor(((179.5, 0.0), (-179.5, 0.0)), half_width_nm=5.0)
    >>> round(bbox_deg(c).width_deg, 3), round(area_km2(c))
    (1.167, 2334)
    """

    coordinates: tuple[LonLat, ...]
    half_width_nm: float
    limits: AreaLimits = field(default=DEFAULT_AREA_LIMITS, kw_only=True, compare=False, repr=False)
    _prepared: _Prepared = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        pts = tuple(
            _check_position(p[0], p[1], field=f"coordinates[{i}]")
            for i, p in enumerate(self.coordinates)
        )
        if len({_same_point(p) for p in pts}) < 2:
            raise InputError(
                field="coordinates", reason="a line needs at least 2 distinct positions"
            )
        object.__setattr__(self, "coordinates", pts)
        _check_vertices(len(pts), field="coordinates", limits=self.limits)
        hw = _check_length_nm(self.half_width_nm, field="half_width_nm", limits=self.limits)
        object.__setattr__(self, "half_width_nm", hw)
        lon, lat = _densify(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        frame = _centred_frame(lon, lat, field="coordinates")
        _, _, dist = _GEOD.inv(
            np.full(lon.shape[0], frame.lon_deg), np.full(lon.shape[0], frame.lat_deg), lon, lat
        )
        extent = float(np.max(dist)) + hw * NM_M
        _check_extent(extent, field="coordinates", limits=self.limits)
        x, y = frame.forward(lon, lat)
        geom = _line_buffer(x, y, hw * NM_M * _BUFFER_OUT)
        area = _geodesic_area_m2(geom, frame)
        _check_area(area, field="half_width_nm", limits=self.limits)
        ox, oy = (np.asarray(c, dtype=np.float64) for c in _largest(geom).exterior.xy)
        outline = frame.inverse(ox, oy)
        object.__setattr__(
            self, "_prepared", _Prepared(frame, ((lon, lat),), outline, extent, area)
        )


Shape: TypeAlias = Polygon | Circle | Corridor
"""Any horizontal area."""


def _circle_boundary(frame: _Frame, radius_m: float) -> tuple[Array, Array]:
    n = _CIRCLE_SEGMENTS
    az = np.linspace(0.0, 360.0, n + 1)
    az[-1] = 0.0
    lon, lat, _ = _GEOD.fwd(
        np.full(n + 1, frame.lon_deg), np.full(n + 1, frame.lat_deg), az,
        np.full(n + 1, radius_m * _CIRCLE_OUT),
    )  # fmt: skip
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _line_buffer(x: Array, y: Array, width_m: float) -> Any:
    """Every point within ``width_m`` of the plane polyline, round at the ends.

    GEOS can lose most of the buffer of a line that retraces itself (out and back along the
    same leg); when the result misses one of the line's own vertices, the buffer is built
    again as the union of each segment's buffer, which is always right.
    """
    xy = np.column_stack([x, y])
    geom = shapely.LineString(xy).buffer(width_m, quad_segs=_QUAD_SEGS)
    if bool(np.all(shapely.intersects_xy(geom, x, y))) and geom.geom_type == "Polygon":
        return geom
    segments = shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1))
    return shapely.union_all(shapely.buffer(segments, width_m, quad_segs=_QUAD_SEGS))


def _plane_polygon(rings: Sequence[tuple[Array, Array]], frame: _Frame) -> Any:
    xy = [np.column_stack(frame.forward(lon, lat)) for lon, lat in rings]
    return shapely.Polygon(xy[0], xy[1:])


def _projected(shape: Shape, frame: _Frame, grow_m: float) -> Any:
    """The shape grown by ``grow_m`` metres, drawn in ``frame``."""
    return _projected_many([shape], frame, grow_m)[0]


def _source_rings(shape: Shape, grow_m: float) -> tuple[tuple[Array, Array], ...]:
    """The lon/lat rings (or centre line) that, projected, draw the grown shape."""
    prep = shape._prepared
    if isinstance(shape, Circle):
        return (prep.circle_boundary(shape.radius_nm * NM_M + grow_m),)
    return prep.rings


def _projected_many(shapes: Sequence[Shape], frame: _Frame, grow_m: float) -> list[Any]:
    """Each shape grown by ``grow_m`` metres, drawn in ``frame`` (one projection call)."""
    sources = [_source_rings(shape, grow_m) for shape in shapes]
    lon = np.concatenate([r[0] for rings in sources for r in rings])
    lat = np.concatenate([r[1] for rings in sources for r in rings])
    x, y = frame.forward(lon, lat)
    xy = np.column_stack([x, y])
    out = []
    at = 0
    for shape, rings in zip(shapes, sources, strict=True):
        drawn = []
        for r in rings:
            n = r[0].shape[0]
            drawn.append(xy[at : at + n])
            at += n
        out.append(_drawn(shape, drawn, grow_m))
    return out


def _tile_drawings(shapes: Sequence[Shape], frame: _Frame, grow_m: float) -> list[Any]:
    """Each shape grown and drawn in a lattice frame, from its cache where it has one."""
    key = (frame.lat_deg, frame.lon_deg, grow_m)
    out = [shape._prepared.tile_drawing(key) for shape in shapes]
    missing = [k for k, geom in enumerate(out) if geom is None]
    if missing:
        drawn = _projected_many([shapes[k] for k in missing], frame, grow_m)
        for k, geom in zip(missing, drawn, strict=True):
            shapely.prepare(geom)
            shapes[k]._prepared.keep_tile_drawing(key, geom)
            out[k] = geom
    return out


def _drawn(shape: Shape, xy: list[Array], grow_m: float) -> Any:
    """The grown shape from its projected source rings (see :func:`_source_rings`)."""
    if isinstance(shape, Circle):
        return shapely.Polygon(xy[0])
    if isinstance(shape, Corridor):
        width_m = (shape.half_width_nm * NM_M + grow_m) * _BUFFER_OUT
        return _line_buffer(xy[0][:, 0], xy[0][:, 1], width_m)
    geom = shapely.Polygon(xy[0], xy[1:])
    if not geom.is_valid:  # rounding in a frame far from the shape's own; never seen
        geom = geom.buffer(0)
    if grow_m > 0.0:
        geom = geom.buffer(grow_m * _BUFFER_OUT, quad_segs=_QUAD_SEGS)
    return geom


# --------------------------------------------------------------------------- lon/lat output


def _wrap(lon: Array) -> Array:
    return (lon + 180.0) % 360.0 - 180.0


def _unwrap(lon: Array) -> Array:
    """Longitudes along a ring, each step taken the short way (|step| <= 180)."""
    steps = _wrap(np.diff(lon))
    return np.concatenate([[lon[0]], lon[0] + np.cumsum(steps)])


def _with_meridian_vertices(
    xy: Array, lon_u: Array, lat: Array, frame: _Frame, meridian_deg: float
) -> tuple[Array, Array, Array]:
    """Insert, on each plane edge that crosses the meridian, the point exactly on it.

    Cutting in lon/lat at that meridian (the antimeridian, or a polar cap's seam) then meets
    a vertex instead of interpolating linearly in degrees, which near a pole could put the
    cut metres off the drawn boundary.
    """
    strip = np.floor((lon_u - meridian_deg) / 360.0)
    edges = np.flatnonzero(strip[1:] != strip[:-1])
    if edges.shape[0] == 0:
        return xy, lon_u, lat
    target = meridian_deg + 360.0 * np.maximum(strip[edges], strip[edges + 1])
    lon = _wrap(lon_u)
    p, q = xy[edges], xy[edges + 1]
    lo, hi = np.zeros(edges.shape[0]), np.ones(edges.shape[0])
    for _ in range(48):  # bisection along the plane edge: 2^-48 of its length
        mid = (lo + hi) / 2.0
        pts = p + (q - p) * mid[:, None]
        mlon, _ = frame.inverse(pts[:, 0], pts[:, 1])
        mlon_u = lon_u[edges] + _wrap(mlon - lon[edges])
        below = (mlon_u < target) == (lon_u[edges] < target)
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    pts = p + (q - p) * ((lo + hi) / 2.0)[:, None]
    _, mlat = frame.inverse(pts[:, 0], pts[:, 1])
    at = edges + 1
    return np.insert(xy, at, pts, axis=0), np.insert(lon_u, at, target), np.insert(lat, at, mlat)


def _ring_region(xy: Array, frame: _Frame) -> Any:
    """The lon/lat region (longitudes unwrapped, maybe past ±180) that a plane ring bounds."""
    lon, lat = frame.inverse(xy[:, 0], xy[:, 1])
    lon_u = _unwrap(lon)
    xy, lon_u, lat = _with_meridian_vertices(xy, lon_u, lat, frame, 180.0)
    turns = round((lon_u[-1] - lon_u[0]) / 360.0)
    if turns == 0:
        lon_u[-1] = lon_u[0]
        return shapely.Polygon(np.column_stack([lon_u, lat])).buffer(0)
    # The ring goes round a pole. Drawn three times end to end (one turn each) and closed
    # along the pole it bounds the cap; the middle turn's 360 degrees are kept. The copies
    # keep the seam clear of the ring's wiggles in longitude near the pole, which a single
    # turn closed at its first vertex could cross.
    period = 360.0 * turns
    lon_u[-1] = lon_u[0] + period
    xy, lon_u, lat = _with_meridian_vertices(xy, lon_u, lat, frame, float(lon_u[0]))
    px, py = frame.forward(np.array([0.0]), np.array([90.0]))
    north = bool(shapely.Polygon(xy).contains(shapely.Point(px[0], py[0])))
    pole = 90.0 if north else -90.0
    body = np.column_stack([lon_u[:-1], lat[:-1]])
    shift = np.array([period, 0.0])
    path = np.vstack([body - shift, body, body + shift])
    first, last = lon_u[0] - period, lon_u[0] + 2.0 * period
    cap = np.vstack([path, [[last, lat[0]], [last, pole], [first, pole]]])
    lo, hi = sorted((float(lon_u[0]), float(lon_u[0] + period)))
    middle = shapely.intersection(
        shapely.make_valid(shapely.Polygon(cap)), shapely.box(lo, -90.0, hi, 90.0)
    )
    return shapely.union_all(_polygons(middle))


def _fold(region: Any) -> Any:
    """Cut a lon/lat region at every antimeridian and bring the pieces into [-180, 180]."""
    minx, _, maxx, _ = region.bounds
    pieces = []
    for k in range(math.floor((minx + 180.0) / 360.0), math.floor((maxx + 180.0) / 360.0) + 1):
        strip = shapely.box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0)
        piece = shapely.intersection(region, strip, grid_size=_GRID_DEG)
        pieces.append(affinity.translate(piece, xoff=-360.0 * k))
    return shapely.union_all(pieces, grid_size=_GRID_DEG)


def _lonlat_polygons(geom: Any, frame: _Frame) -> tuple[PolygonCoords, ...]:
    regions = []
    for poly in _polygons(geom):
        region = _fold(_ring_region(np.asarray(poly.exterior.coords), frame))
        for hole in poly.interiors:
            hole_region = _fold(_ring_region(np.asarray(hole.coords), frame))
            region = shapely.difference(region, hole_region, grid_size=_GRID_DEG)
        regions.append(region)
    merged = shapely.union_all(regions, grid_size=_GRID_DEG)
    out = []
    for p in _polygons(merged):
        q = orient(p, sign=1.0)
        rings = [q.exterior, *q.interiors]
        out.append(tuple(tuple((float(x), float(y)) for x, y in r.coords) for r in rings))
    return tuple(out)


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class BBox:
    """Bounding box as RFC 7946 writes it: ``west > east`` when it crosses the antimeridian."""

    west_deg: float
    south_deg: float
    east_deg: float
    north_deg: float

    @property
    def width_deg(self) -> float:
        """Width in longitude, the short way round the antimeridian; 360 for a polar cap."""
        if self.west_deg == -180.0 and self.east_deg == 180.0:
            return 360.0
        return (self.east_deg - self.west_deg) % 360.0


def bbox_deg(shape: Shape) -> BBox:
    """The lon/lat bounding box of a shape, antimeridian and poles included.

    Examples
    --------
    >>> b = bbox_deg(Circle(center_lat_deg=0.0, center_lon_deg=180.0, radius_nm=60.0))
    >>> round(b.west_deg, 2), round(b.east_deg, 2), round(b.width_deg, 2)
    (179.0, -179.0, 2.0)
    """
    prep = shape._prepared
    lon, lat = prep.outline
    lon_u = _unwrap(lon)
    south, north = float(lat.min()), float(lat.max())
    if round((lon_u[-1] - lon_u[0]) / 360.0) != 0:
        # Round a pole: the one nearer the shape's centre is inside.
        if prep.frame.lat_deg >= 0.0:
            return BBox(-180.0, south, 180.0, 90.0)
        return BBox(-180.0, -90.0, 180.0, north)
    west, east = (float(v) for v in _wrap(np.array([lon_u.min(), lon_u.max()])))
    if east == -180.0 and float(lon_u.max()) > -180.0:
        east = 180.0
    return BBox(west, south, east, north)


def area_km2(shape: Shape) -> float:
    """Geodesic area of a shape in km² (holes taken out).

    Examples
    --------
    >>> round(area_km2(Circle(center_lat_deg=45.0, center_lon_deg=7.0, radius_nm=10.0)), 1)
    1077.8
    """
    return shape._prepared.area_m2 / 1e6


def buffered(shape: Shape, nm: float, *, field: str = "buffer_nm") -> Shape:
    """The shape grown by ``nm`` nautical miles (exact for circles and corridors).

    A grown polygon is a polygon through the buffer's drawn boundary (see the module's
    accuracy); the vertex and area limits do not apply to it.

    Examples
    --------
    >>> buffered(Circle(center_lat_deg=10.0, center_lon_deg=20.0, radius_nm=5.0), 2.5)
    Circle(center_lat_deg=10.0, center_lon_deg=20.0, radius_nm=7.5)
    """
    grow = float(nm)
    if not (math.isfinite(grow) and grow >= 0.0):
        raise InputError(field=field, reason=f"{nm!r} is not a finite number of NM >= 0")
    if grow == 0.0:
        return shape
    try:
        if isinstance(shape, Circle):
            return Circle(
                shape.center_lat_deg,
                shape.center_lon_deg,
                shape.radius_nm + grow,
                limits=_DERIVED_LIMITS,
            )
        if isinstance(shape, Corridor):
            return Corridor(shape.coordinates, shape.half_width_nm + grow, limits=_DERIVED_LIMITS)
        frame = shape._prepared.frame
        geom = _largest(_projected(shape, frame, grow * NM_M))
        rings = []
        for ring in [geom.exterior, *geom.interiors]:
            xy = np.asarray(ring.coords, dtype=np.float64)
            lon, lat = frame.inverse(xy[:, 0], xy[:, 1])
            rings.append(tuple(zip(lon.tolist(), lat.tolist(), strict=True)))
        return Polygon(rings[0], tuple(rings[1:]), limits=_DERIVED_LIMITS)
    except InputError as exc:
        raise InputError(field=field, reason=f"the grown area {exc.reason}") from None


def covers(shape: Shape, lon_deg: npt.ArrayLike, lat_deg: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Which points lie in the shape or on its boundary.

    Examples
    --------
    >>> c = Circle(center_lat_deg=89.9, center_lon_deg=0.0, radius_nm=10.0)
    >>> covers(c, [0.0, 180.0, 90.0], [90.0, 89.95, 89.0]).tolist()
    [True, True, False]
    """
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
    frame = shape._prepared.frame
    x, y = frame.forward(lon, lat)
    return np.asarray(shapely.intersects_xy(_projected(shape, frame, 0.0), x, y), dtype=np.bool_)


@dataclass(frozen=True)
class Overlap:
    """The common part of two shapes: RFC 7946 lon/lat polygons and its area.

    ``polygons`` hold each piece as an exterior ring (counter-clockwise) and its holes;
    pieces are split at the antimeridian and a polar cap is closed along the pole. Positions
    are rounded to 7 decimal places (a centimetre at most); the area is the unrounded
    pieces'.
    """

    polygons: tuple[PolygonCoords, ...]
    area_km2: float

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON ``Polygon``, or a ``MultiPolygon`` when there are several pieces."""
        coords = [[[list(p) for p in ring] for ring in poly] for poly in self.polygons]
        if len(coords) == 1:
            return {"type": "Polygon", "coordinates": coords[0]}
        return {"type": "MultiPolygon", "coordinates": coords}


def _reach_m(pa: _Prepared, pb: _Prepared, d_m: float) -> float:
    """Farthest apart two shapes' centres may be for them to overlap, with a 5 % margin."""
    return (pa.extent_m + pb.extent_m + d_m) * 1.05 + 1.0


def _may_overlap(pa: _Prepared, pb: _Prepared, d_m: float) -> bool:
    # Along a geodesic of length s the normal turns by at most s / M0, so centres whose
    # unit vectors are more than reach / M0 apart are more than the reach apart.
    limit = _reach_m(pa, pb, d_m) / _M0_M
    if limit >= math.pi:
        return True
    (ax, ay, az), (bx, by, bz) = pa.unit, pb.unit
    chord2 = (ax - bx) ** 2 + (ay - by) ** 2 + (az - bz) ** 2
    return chord2 <= (2.0 * math.sin(limit / 2.0)) ** 2 + 1e-12


def may_overlap(a: Shape, b: Shape, *, buffer_nm: float = 0.0) -> bool:
    """A cheap test, no geometry: False only where :func:`overlap` is None for sure.

    It compares the angle between the shapes' centres with their reach (plus the buffer and
    the margin :func:`overlap` itself allows), in a few floating-point operations; use it
    to skip pairs before the exact test.

    Examples
    --------
    >>> a = Circle(center_lat_deg=0.0, center_lon_deg=179.9, radius_nm=10.0)
    >>> b = Circle(center_lat_deg=0.0, center_lon_deg=-179.9, radius_nm=10.0)
    >>> may_overlap(a, b), may_overlap(a, Circle(0.0, 170.0, 10.0), buffer_nm=5.0)
    (True, False)
    """
    d_m = float(buffer_nm)
    if not (math.isfinite(d_m) and d_m >= 0.0):
        raise InputError(field="buffer_nm", reason=f"{buffer_nm!r} is not a finite number >= 0")
    return _may_overlap(a._prepared, b._prepared, d_m * NM_M)


def overlap(a: Shape, b: Shape, *, buffer_nm: float = 0.0) -> Overlap | None:
    """Where ``a`` and ``b``, each grown by ``buffer_nm / 2``, overlap; None if they do not.

    Symmetric, and not None exactly when the shapes come closer than ``buffer_nm`` (or
    overlap); touching is not overlapping. See the module for the rule and its accuracy.

    Examples
    --------
    >>> a = Circle(center_lat_deg=0.0, center_lon_deg=179.9, radius_nm=10.0)
    >>> b = Circle(center_lat_deg=0.0, center_lon_deg=-179.9, radius_nm=10.0)
    >>> o = overlap(a, b)
    >>> len(o.polygons), round(o.area_km2, 1)
    (2, 305.8)
    >>> c = Circle(center_lat_deg=0.0, center_lon_deg=179.5, radius_nm=1.0)
    >>> overlap(b, c) is None, overlap(b, c, buffer_nm=30.0) is None
    (True, False)
    """
    d_m = float(buffer_nm)
    if not (math.isfinite(d_m) and d_m >= 0.0):
        raise InputError(field="buffer_nm", reason=f"{buffer_nm!r} is not a finite number >= 0")
    d_m *= NM_M
    pa, pb = a._prepared, b._prepared
    if not _may_overlap(pa, pb, d_m):
        return None
    _, _, centres_m = _GEOD.inv(
        pa.frame.lon_deg, pa.frame.lat_deg, pb.frame.lon_deg, pb.frame.lat_deg
    )
    if centres_m > _reach_m(pa, pb, d_m):
        return None
    frame, shared = _pair_frame(pa, pb, d_m)
    if frame is None:  # antipodal centres: they cannot reach each other
        return None
    if shared:
        ga, gb = _tile_drawings([a, b], frame, d_m / 2.0)
    else:
        ga, gb = _projected_many([a, b], frame, d_m / 2.0)
    inter = shapely.Polygon() if not ga.intersects(gb) else ga.intersection(gb)
    parts = _polygons(inter)
    plane_area = sum(p.area for p in parts)
    if plane_area <= _SLIVER * min(ga.area, gb.area):
        return None
    lonlat = _parts_lonlat(parts, frame)
    area_m2 = 0.0
    for rings in lonlat:
        for k, (lon, lat) in enumerate(rings):
            ring_m2 = abs(float(_GEOD.polygon_area_perimeter(lon, lat)[0]))
            area_m2 += ring_m2 if k == 0 else -ring_m2
    polygons = _simple_lonlat_polygons(lonlat)
    if polygons is None:
        geom = shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
        polygons = _lonlat_polygons(geom, frame)
    if not polygons:
        return None
    return Overlap(tuple(_rounded(p) for p in polygons), area_m2 / 1e6)


def _rounded(polygon: PolygonCoords) -> PolygonCoords:
    """``polygon`` with positions to :data:`_OUT_DECIMALS` places, repeats dropped (as given
    should a ring come out with under 4 positions: a piece a few centimetres across)."""
    rings: list[Ring] = []
    for ring in polygon:
        out: list[LonLat] = []
        for lon, lat in ring:
            q = (round(lon, _OUT_DECIMALS), round(lat, _OUT_DECIMALS))
            if not out or q != out[-1]:
                out.append(q)
        if len(out) < 4 or out[0] != out[-1]:
            return polygon
        rings.append(tuple(out))
    return tuple(rings)


def _parts_lonlat(parts: Sequence[Any], frame: _Frame) -> list[list[tuple[Array, Array]]]:
    """The rings of each plane polygon (exterior first) in lon/lat, in one projection call."""
    per_part = [
        [np.asarray(r.coords, dtype=np.float64) for r in (poly.exterior, *poly.interiors)]
        for poly in parts
    ]
    xy = np.concatenate([r for rings in per_part for r in rings])
    lon, lat = frame.inverse(xy[:, 0], xy[:, 1])
    out: list[list[tuple[Array, Array]]] = []
    at = 0
    for rings in per_part:
        mine = []
        for r in rings:
            n = r.shape[0]
            mine.append((lon[at : at + n], lat[at : at + n]))
            at += n
        out.append(mine)
    return out


def _signed_area_deg2(lon: Array, lat: Array) -> float:
    return float(np.dot(lon[:-1], lat[1:]) - np.dot(lon[1:], lat[:-1])) / 2.0


def _simple_lonlat_polygons(
    lonlat: Sequence[Sequence[tuple[Array, Array]]],
) -> tuple[PolygonCoords, ...] | None:
    """RFC 7946 polygons straight from the projected rings, or None for the hard cases.

    The common case: no ring comes within a degree of a pole or crosses the antimeridian
    (every step along it is under 90 degrees of longitude), and the rings, read in lon/lat,
    make valid polygons. Then the drawing needs no cut, fold or cap, only orientation
    (exteriors counter-clockwise, holes clockwise). Anything else takes the exact path,
    :func:`_lonlat_polygons`.
    """
    for rings in lonlat:
        for lon, lat in rings:
            if float(np.max(np.abs(lat))) >= _FAST_MAX_LAT:
                return None
            if float(np.max(np.abs(np.diff(lon)))) >= _FAST_MAX_STEP_DEG:
                return None
    shells = []
    out = []
    for rings in lonlat:
        oriented = []
        for k, (lon, lat) in enumerate(rings):
            ring = np.column_stack([lon, lat])
            ccw = _signed_area_deg2(lon, lat) > 0.0
            oriented.append(ring if ccw == (k == 0) else ring[::-1])
        shells.append(shapely.Polygon(oriented[0], oriented[1:]))
        out.append(tuple(tuple(map(tuple, r.tolist())) for r in oriented))
    geom = shapely.MultiPolygon(shells) if len(shells) > 1 else shells[0]
    if not shapely.is_valid(geom):
        return None
    return tuple(out)


# --------------------------------------------------------------------------- GeoJSON


def to_geojson(shape: Shape) -> dict[str, Any]:
    """The JSON form that :func:`from_geojson` reads back.

    Examples
    --------
    >>> to_geojson(Circle(center_lat_deg=10.0, center_lon_deg=20.0, radius_nm=5.0))
    {'type': 'Circle', 'center': [20.0, 10.0], 'radius_nm': 5.0}
    """
    if isinstance(shape, Circle):
        return {
            "type": "Circle",
            "center": [shape.center_lon_deg, shape.center_lat_deg],
            "radius_nm": shape.radius_nm,
        }
    if isinstance(shape, Corridor):
        return {
            "type": "Corridor",
            "coordinates": [list(p) for p in shape.coordinates],
            "half_width_nm": shape.half_width_nm,
        }
    rings = [shape.exterior, *shape.holes]
    return {"type": "Polygon", "coordinates": [[list(p) for p in r] for r in rings]}


_KEYS: Final = {
    "Polygon": ("type", "coordinates"),
    "Circle": ("type", "center", "radius_nm"),
    "Corridor": ("type", "coordinates", "half_width_nm"),
}


def _number(value: object, *, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field=field, reason=f"{value!r} is not a number")
    try:
        out = float(value)
    except OverflowError:
        raise InputError(field=field, reason="is too large a number") from None
    if not math.isfinite(out):
        raise InputError(field=field, reason=f"{value!r} is not a finite number")
    return out


def _list(value: object, *, field: str, what: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise InputError(field=field, reason=f"must be {what}")
    return list(value)


def _position(value: object, *, field: str) -> LonLat:
    items = _list(value, field=field, what="a position [lon, lat]")
    if len(items) != 2:
        raise InputError(
            field=field,
            reason=f"has {len(items)} numbers; a position is [lon, lat]"
            " (altitudes belong in the volume's band)",
        )
    return (
        _number(items[0], field=f"{field}[0]"),
        _number(items[1], field=f"{field}[1]"),
    )


def _positions(value: object, *, field: str) -> tuple[LonLat, ...]:
    items = _list(value, field=field, what="a list of positions [lon, lat]")
    return tuple(_position(p, field=f"{field}[{i}]") for i, p in enumerate(items))


def from_geojson(
    obj: object, *, field: str = "area", limits: AreaLimits = DEFAULT_AREA_LIMITS
) -> Shape:
    """Read a shape from its JSON form; errors name the JSON path under ``field``.

    Accepted: ``{"type": "Polygon", "coordinates": [ring, hole, ...]}``,
    ``{"type": "Circle", "center": [lon, lat], "radius_nm": r}`` and
    ``{"type": "Corridor", "coordinates": [[lon, lat], ...], "half_width_nm": w}``. Other
    members are refused.

    Examples
    --------
    >>> from_geojson({"type": "Circle", "center": [20, 10], "radius_nm": 5})
    Circle(center_lat_deg=10.0, center_lon_deg=20.0, radius_nm=5.0)
    >>> from_geojson({"type": "Circle", "center": [20, 95], "radius_nm": 5},
    ...              field="volumes[0].area")
    Traceback (most recent call last):
    ...
    skyparley.errors.InputError: volumes[0].area.center: latitude 95.0 is outside [-90, 90]
    """
    if not isinstance(obj, Mapping):
        raise InputError(field=field, reason="must be an object with a type")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise InputError(
            field=f"{field}.type", reason=f"{kind!r} is not one of Polygon, Circle, Corridor"
        )
    allowed = _KEYS[kind]
    extra = sorted(str(k) for k in obj if k not in allowed)
    if extra:
        raise InputError(
            field=f"{field}.{extra[0]}",
            reason=f"is not a member of a {kind} (allowed: {', '.join(allowed)})",
        )
    for key in allowed:
        if key not in obj:
            raise InputError(field=f"{field}.{key}", reason="is missing")
    try:
        if kind == "Circle":
            lon, lat = _position(obj["center"], field="center")
            radius = _number(obj["radius_nm"], field="radius_nm")
            return Circle(lat, lon, radius, limits=limits)
        if kind == "Corridor":
            line = _positions(obj["coordinates"], field="coordinates")
            width = _number(obj["half_width_nm"], field="half_width_nm")
            return Corridor(line, width, limits=limits)
        rings = _list(obj["coordinates"], field="coordinates", what="a list of rings")
        parsed = [_positions(r, field=f"coordinates[{k}]") for k, r in enumerate(rings)]
        return Polygon(parsed[0] if parsed else (), tuple(parsed[1:]), limits=limits)
    except InputError as exc:
        raise InputError(field=f"{field}.{exc.field}", reason=exc.reason) from None
