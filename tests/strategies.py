"""Shared Hypothesis strategies: aircraft scenes anywhere on Earth, JSON values."""

from __future__ import annotations

import math

from hypothesis import strategies as st
from tests.geo.reference import Ac

__all__ = ["aircraft_near", "json_values", "scene_centres", "scenes"]

# Centres include the poles' neighbourhood and both sides of the antimeridian.
scene_centres = st.one_of(
    st.tuples(st.floats(-89.0, 89.0), st.floats(-180.0, 180.0)),
    st.tuples(st.floats(88.0, 89.95) | st.floats(-89.95, -88.0), st.floats(-180.0, 180.0)),
    st.tuples(st.floats(-60.0, 60.0), st.floats(179.0, 180.0) | st.floats(-180.0, -179.0)),
)


def json_values(
    scalars: st.SearchStrategy[object],
    keys: st.SearchStrategy[str],
    *,
    max_size: int,
    max_leaves: int,
) -> st.SearchStrategy[object]:
    """JSON trees of ``scalars``: lists, tuples (encoded as arrays) and objects keyed by
    ``keys``."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=max_size),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(keys, inner, max_size=max_size),
        ),
        max_leaves=max_leaves,
    )


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """Small-offset move on a sphere, staying valid near the poles (clamped, wrapped)."""
    lat2 = lat + math.degrees(north_m / 6371000.0)
    if lat2 > 89.99:
        lat2 = 179.98 - lat2
        lon += 180.0
    if lat2 < -89.99:
        lat2 = -179.98 - lat2
        lon += 180.0
    coslat = max(math.cos(math.radians(lat2)), 1e-3)
    lon2 = lon + math.degrees(east_m / (6371000.0 * coslat))
    lon2 = (lon2 + 180.0) % 360.0 - 180.0
    return lat2, lon2


@st.composite
def aircraft_near(
    draw: st.DrawFn,
    centre: tuple[float, float],
    spread_m: float,
    band_ft: tuple[float, float] = (0.0, 45000.0),
) -> Ac:
    """One aircraft within ``spread_m`` of ``centre``, with any velocity an aircraft may have."""
    north = draw(st.floats(-spread_m, spread_m))
    east = draw(st.floats(-spread_m, spread_m))
    lat, lon = _offset(centre[0], centre[1], north, east)
    level = draw(st.booleans())
    return Ac(
        lat_deg=lat,
        lon_deg=lon,
        alt_ft=draw(st.floats(*band_ft)),
        gs_kt=draw(st.sampled_from([0.0]) | st.floats(0.0, 650.0)),
        trk_deg=draw(st.floats(0.0, 360.0)),
        vs_fpm=0.0 if level else draw(st.floats(-6000.0, 6000.0)),
    )


@st.composite
def scenes(draw: st.DrawFn, max_size: int = 30) -> list[Ac]:
    """A scene of 2 to ``max_size`` aircraft around one centre, dense enough to conflict."""
    centre = draw(scene_centres)
    spread = draw(st.sampled_from([2000.0, 20000.0, 80000.0]))
    base = draw(st.floats(0.0, 40000.0))
    band = (base, base + draw(st.sampled_from([0.0, 1500.0, 5000.0, 40000.0])))
    n = draw(st.integers(2, max_size))
    return draw(st.lists(aircraft_near(centre, spread, band), min_size=n, max_size=n))


# ---------------------------------------------------------------- ledger
__all__ += ["bit_of", "flip_bit", "ledger_leaves"]  # appended here to keep merges simple


@st.composite
def ledger_leaves(draw: st.DrawFn, min_size: int = 1, max_size: int = 300) -> list[bytes]:
    """The leaves of a random Merkle tree: ``min_size`` to ``max_size`` leaves.

    Most leaves are distinct (a drawn prefix and the index); a few drawn ones may repeat
    others or be empty, since a log may hold the same bytes twice.
    """
    n = draw(st.integers(min_size, max_size))
    prefix = draw(st.binary(max_size=8))
    leaves = [prefix + i.to_bytes(2, "big") for i in range(n)]
    for i in draw(st.lists(st.integers(0, n - 1), max_size=3)):
        leaves[i] = draw(st.binary(max_size=4) | st.sampled_from(leaves))
    return leaves


def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with bit ``bit`` (0 = the lowest bit of the first byte) inverted."""
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def bit_of(data: bytes) -> st.SearchStrategy[int]:
    """Any bit position of ``data`` (which must not be empty), for :func:`flip_bit`."""
    return st.integers(0, len(data) * 8 - 1)


# ---------------------------------------------------------------- 4D volumes
# Shapes of skyparley.geo.areas and volumes of skyparley.domain.volumes, anywhere on Earth
# (poles and antimeridian included, through ``scene_centres``), in either winding order.


def _destination(
    centre: tuple[float, float], bearing_deg: float, dist_m: float
) -> tuple[float, float]:
    """``(lon, lat)`` of the point at that bearing and geodesic distance from ``(lat, lon)``."""
    from skyparley.geo.wgs84 import destination

    lat, lon = destination([centre[0]], [centre[1]], [bearing_deg], [dist_m])
    return float(lon[0]), float(lat[0])


@st.composite
def shapes_near(draw: st.DrawFn, centre: tuple[float, float], size_m: float) -> object:
    """A polygon (star-shaped, simple), circle or corridor of about ``size_m`` around ``centre``."""
    from skyparley.geo.areas import Circle, Corridor, Polygon
    from skyparley.geo.units import NM_M

    kind = draw(st.sampled_from(["polygon", "circle", "corridor"]))
    if kind == "circle":
        return Circle(centre[0], centre[1], draw(st.floats(0.2, 1.0)) * size_m / NM_M)
    if kind == "corridor":
        n = draw(st.integers(2, 4))
        pts = [
            _destination(centre, draw(st.floats(0.0, 360.0)), draw(st.floats(0.0, size_m)))
            for _ in range(n)
        ]
        if len({(round(x, 9), round(y, 9)) for x, y in pts}) < 2:
            pts.append(_destination(centre, 45.0, size_m))
        return Corridor(tuple(pts), draw(st.floats(0.05, 0.5)) * size_m / NM_M)
    # One vertex per sector, so no gap between bearings reaches 180 degrees: simple.
    n = draw(st.integers(3, 12))
    ring = [
        _destination(
            centre,
            360.0 / n * (k + draw(st.floats(0.0, 0.4))),
            draw(st.floats(0.3, 1.0)) * size_m,
        )
        for k in range(n)
    ]
    if draw(st.booleans()):
        ring.reverse()
    return Polygon(tuple(ring))


@st.composite
def shape_pairs(draw: st.DrawFn) -> tuple[object, object]:
    """Two shapes close enough to overlap often, and far enough apart not to, sometimes."""
    centre = draw(scene_centres)
    size = draw(st.sampled_from([2_000.0, 20_000.0, 100_000.0]))
    other = _destination(centre, draw(st.floats(0.0, 360.0)), draw(st.floats(0.0, 2.5)) * size)
    return draw(shapes_near(centre, size)), draw(shapes_near((other[1], other[0]), size))


@st.composite
def volume_pairs(draw: st.DrawFn) -> tuple[object, object]:
    """Two 4D volumes near each other in space, altitude and time."""
    from skyparley.domain.volumes import AltitudeBand, TimeWindow, Volume4D

    a_area, b_area = draw(shape_pairs())
    t0 = 1_444_467_600.0

    def band() -> AltitudeBand:
        lo = draw(st.integers(0, 40)) * 1000.0
        return AltitudeBand(lo, lo + draw(st.integers(1, 10)) * 1000.0)

    def window() -> TimeWindow:
        start = t0 + draw(st.integers(0, 24)) * 600.0
        return TimeWindow(start, start + draw(st.integers(1, 12)) * 600.0)

    return (
        Volume4D(a_area, band(), window()),
        Volume4D(b_area, band(), window()),
    )


__all__ += ["shape_pairs", "shapes_near", "volume_pairs"]
