"""Shared Hypothesis strategies: aircraft scenes anywhere on Earth."""

from __future__ import annotations

import math

from hypothesis import strategies as st
from tests.geo.reference import Ac

__all__ = ["aircraft_near", "scene_centres", "scenes"]

# Centres include the poles' neighbourhood and both sides of the antimeridian.
scene_centres = st.one_of(
    st.tuples(st.floats(-89.0, 89.0), st.floats(-180.0, 180.0)),
    st.tuples(st.floats(88.0, 89.95) | st.floats(-89.95, -88.0), st.floats(-180.0, 180.0)),
    st.tuples(st.floats(-60.0, 60.0), st.floats(179.0, 180.0) | st.floats(-180.0, -179.0)),
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
