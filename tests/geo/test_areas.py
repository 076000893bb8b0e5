"""Horizontal areas: validation, the antimeridian, the poles, buffers and overlaps."""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from tests.strategies import shape_pairs

from skyparley.errors import InputError
from skyparley.geo import areas
from skyparley.geo.areas import (
    AreaLimits,
    Circle,
    Corridor,
    Overlap,
    Polygon,
    Shape,
    area_km2,
    bbox_deg,
    buffered,
    covers,
    from_geojson,
    overlap,
    to_geojson,
)
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import destination

GEOD = Geod(ellps="WGS84")
NO_AREA_LIMIT = AreaLimits(max_area_km2=None)


def geodesic_area_km2(lons: list[float], lats: list[float]) -> float:
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0]) / 1e6


def box(west: float, south: float, east: float, north: float, **kw: Any) -> Polygon:
    return Polygon(((west, south), (east, south), (east, north), (west, north)), **kw)


def square_at(lat: float, lon: float, half_m: float) -> Polygon:
    """A square of geodesic corners ``half_m`` * sqrt(2) from (lat, lon)."""
    brg = np.array([45.0, 135.0, 225.0, 315.0])
    la, lo = destination(np.full(4, lat), np.full(4, lon), brg, np.full(4, half_m * math.sqrt(2)))
    return Polygon(tuple(zip(lo.tolist(), la.tolist(), strict=True)))


def overlap_lons(o: Overlap) -> list[float]:
    return [p[0] for poly in o.polygons for ring in poly for p in ring]


def lonlat_shapes(o: Overlap) -> list[Any]:
    return [shapely.Polygon(poly[0], poly[1:]) for poly in o.polygons]


# ---------------------------------------------------------------- antimeridian


def test_antimeridian_box_is_20_degrees_wide_with_the_right_area() -> None:
    b = box(170.0, 0.0, -170.0, 1.0)
    bb = bbox_deg(b)
    assert (bb.west_deg, bb.east_deg) == (170.0, -170.0)
    assert bb.width_deg == pytest.approx(20.0)
    ref = geodesic_area_km2([170.0, -170.0, -170.0, 170.0], [0.0, 0.0, 1.0, 1.0])
    assert area_km2(b) == pytest.approx(ref, rel=1e-9)
    assert area_km2(b) < 250_000.0  # a 340-degree box would be 17 times larger


def test_antimeridian_box_holds_the_date_line_not_greenwich() -> None:
    b = box(170.0, 0.0, -170.0, 1.0)
    assert covers(b, [180.0, -180.0, 175.0, -175.0], [0.5] * 4).all()
    assert not covers(b, [0.0, 169.0, -169.0], [0.5] * 3).any()
    on_line = Circle(0.5, 180.0, 5.0)
    at_greenwich = Circle(0.5, 0.0, 5.0)
    assert overlap(b, on_line) is not None
    assert overlap(b, at_greenwich) is None


def test_antimeridian_overlap_is_split_into_rfc7946_pieces() -> None:
    b = box(170.0, 0.0, -170.0, 1.0)
    o = overlap(b, b)
    assert o is not None
    assert o.area_km2 == pytest.approx(area_km2(b), rel=1e-6)
    assert all(-180.0 <= lon <= 180.0 for lon in overlap_lons(o))
    pieces = sorted(lonlat_shapes(o), key=lambda p: p.bounds[0])
    assert len(pieces) == 2
    assert pieces[0].bounds[0] == pytest.approx(-180.0)
    assert pieces[0].bounds[2] == pytest.approx(-170.0)
    assert pieces[1].bounds[0] == pytest.approx(170.0)
    assert pieces[1].bounds[2] == pytest.approx(180.0)
    assert all(p.is_valid for p in pieces)
    gj = o.to_geojson()
    assert gj["type"] == "MultiPolygon"
    assert len(gj["coordinates"]) == 2


def test_wide_antimeridian_box_with_raised_limits() -> None:
    b = box(170.0, 10.0, -170.0, 20.0, limits=NO_AREA_LIMIT)
    ref = geodesic_area_km2([170.0, -170.0, -170.0, 170.0], [10.0, 10.0, 20.0, 20.0])
    assert area_km2(b) == pytest.approx(ref, rel=1e-9)
    assert bbox_deg(b).width_deg == pytest.approx(20.0)


# ---------------------------------------------------------------- poles


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_polar_circle_area_and_bbox(pole: float) -> None:
    c = Circle(pole, 0.0, 300.0, limits=NO_AREA_LIMIT)
    n = 7200
    lat, lon = destination(np.full(n, pole), np.zeros(n), np.linspace(0, 360, n), 300 * NM_M)
    assert area_km2(c) == pytest.approx(geodesic_area_km2(lon.tolist(), lat.tolist()), rel=5e-4)
    bb = bbox_deg(c)
    assert (bb.west_deg, bb.east_deg) == (-180.0, 180.0)
    assert bb.width_deg == 360.0
    if pole > 0:
        assert bb.north_deg == 90.0
        assert bb.south_deg == pytest.approx(85.0, abs=0.1)
    else:
        assert bb.south_deg == -90.0


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_two_polar_circles_overlap_over_the_pole(pole: float) -> None:
    a = Circle(pole, 0.0, 300.0, limits=NO_AREA_LIMIT)
    lat_b = math.copysign(88.0, pole)
    b = Circle(lat_b, 90.0, 200.0, limits=NO_AREA_LIMIT)
    o = overlap(a, b)
    o_back = overlap(b, a)
    assert o is not None
    assert o_back is not None
    assert o.area_km2 == pytest.approx(o_back.area_km2, rel=1e-9)
    assert 0.5 * area_km2(b) < o.area_km2 < area_km2(b)
    # The overlap holds the pole: RFC 7946 closes it along the pole, lon -180 to 180.
    pts = [p for poly in o.polygons for ring in poly for p in ring]
    assert any(lat == pole for _, lat in pts)
    assert min(lon for lon, _ in pts) == pytest.approx(-180.0)
    assert max(lon for lon, _ in pts) == pytest.approx(180.0)
    assert all(p.is_valid for p in lonlat_shapes(o))


def test_polygon_ring_around_the_pole_encloses_the_cap() -> None:
    lons = [float(k) for k in range(-180, 180, 45)]
    ring = tuple((lon, 87.5) for lon in lons)
    cap = Polygon(ring)
    ref = geodesic_area_km2(lons, [87.5] * len(lons))
    assert area_km2(cap) == pytest.approx(ref, rel=1e-9)
    assert area_km2(cap) < 250_000.0
    assert covers(cap, [0.0, 123.0], [90.0, 89.0]).all()
    assert not covers(cap, [0.0], [86.0]).any()
    reversed_cap = Polygon(tuple(reversed(ring)))
    assert area_km2(reversed_cap) == pytest.approx(area_km2(cap), rel=1e-12)
    o = overlap(cap, Circle(90.0, 0.0, 30.0))
    assert o is not None
    assert o.area_km2 == pytest.approx(area_km2(Circle(90.0, 0.0, 30.0)), rel=1e-6)


# ---------------------------------------------------------------- validation


def test_bowtie_is_rejected_naming_the_field() -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(InputError, match="crosses itself") as err:
        from_geojson(bowtie, field="volumes[0].area")
    assert err.value.field == "volumes[0].area.coordinates"


def test_both_winding_orders_give_the_same_area() -> None:
    ccw = [[36.0, 35.0], [36.5, 35.0], [36.5, 35.5], [36.0, 35.5]]
    a = from_geojson({"type": "Polygon", "coordinates": [ccw]})
    b = from_geojson({"type": "Polygon", "coordinates": [list(reversed(ccw))]})
    assert area_km2(a) == pytest.approx(area_km2(b), rel=1e-12)
    o = overlap(a, b)
    assert o is not None
    assert o.area_km2 == pytest.approx(area_km2(a), rel=1e-6)


def test_open_ring_is_closed_and_written_closed() -> None:
    p = from_geojson({"type": "Polygon", "coordinates": [[[0, 0], [0.1, 0], [0.1, 0.1]]]})
    assert isinstance(p, Polygon)
    assert p.exterior[0] == p.exterior[-1] == (0.0, 0.0)
    assert to_geojson(p)["coordinates"][0][-1] == [0.0, 0.0]


def test_hole_is_taken_out_and_must_lie_inside() -> None:
    outer = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    inner = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75], [0.25, 0.25]]
    whole = from_geojson({"type": "Polygon", "coordinates": [outer]})
    holed = from_geojson({"type": "Polygon", "coordinates": [outer, inner]})
    inner_area = geodesic_area_km2([p[0] for p in inner], [p[1] for p in inner])
    assert area_km2(holed) == pytest.approx(area_km2(whole) - inner_area, rel=1e-9)
    assert not covers(holed, [0.5], [0.5]).any()
    outside = [[[2, 2], [3, 2], [3, 3], [2, 2]]]
    with pytest.raises(InputError, match="hole") as err:
        from_geojson({"type": "Polygon", "coordinates": [outer, *outside]}, field="area")
    assert err.value.field == "area.coordinates"


def ring_of(n: int, radius_m: float = 50_000.0) -> list[list[float]]:
    brg = np.linspace(0.0, 360.0, n, endpoint=False)
    lat, lon = destination(np.full(n, 35.0), np.full(n, 36.0), brg, np.full(n, radius_m))
    return [[x, y] for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]


def test_vertex_limit_default_and_parameter() -> None:
    obj = {"type": "Polygon", "coordinates": [ring_of(1001)]}
    with pytest.raises(InputError, match="1001 vertices; at most 1000") as err:
        from_geojson(obj, field="volumes[3].area")
    assert err.value.field == "volumes[3].area.coordinates"
    assert from_geojson(obj, limits=AreaLimits(max_vertices=2000)) is not None
    assert from_geojson({"type": "Polygon", "coordinates": [ring_of(1000)]}) is not None


def test_area_limit_default_and_parameter() -> None:
    big = {"type": "Polygon", "coordinates": [ring_of(64, radius_m=300_000.0)]}
    with pytest.raises(InputError, match=r"covers 28.,... km²; at most 250,000 km²") as err:
        from_geojson(big, field="notice.volumes[0].area")
    assert err.value.field == "notice.volumes[0].area.coordinates"
    assert from_geojson(big, limits=AreaLimits(max_area_km2=300_000.0)) is not None
    with pytest.raises(InputError) as err:
        from_geojson({"type": "Circle", "center": [0, 0], "radius_nm": 160})
    assert err.value.field == "area.radius_nm"


@pytest.mark.parametrize(
    ("obj", "field", "reason"),
    [
        ({"type": "Circle", "center": [0, 0], "radius_nm": 0}, "a.radius_nm", "not above 0"),
        ({"type": "Circle", "center": [0, 0], "radius_nm": 800}, "a.radius_nm", "at most"),
        ({"type": "Circle", "center": [0, 0], "radius_nm": True}, "a.radius_nm", "not a number"),
        ({"type": "Circle", "center": [181, 0], "radius_nm": 1}, "a.center", "longitude"),
        ({"type": "Circle", "center": [0, 0, 100], "radius_nm": 1}, "a.center", "[lon, lat]"),
        ({"type": "Circle", "center": [0, 0]}, "a.radius_nm", "missing"),
        ({"type": "Circle", "center": [0, 0], "radius_nm": 1, "why": 1}, "a.why", "not a member"),
        ({"type": "Square"}, "a.type", "not one of"),
        ({"type": "Corridor", "coordinates": [[0, 0], [0, 0]], "half_width_nm": 1},
         "a.coordinates", "2 distinct"),
        ({"type": "Corridor", "coordinates": [[0, 0], [1, 0]], "half_width_nm": -1},
         "a.half_width_nm", "not above 0"),
        ({"type": "Corridor", "coordinates": [[0, 0], [30, 0]], "half_width_nm": 1},
         "a.coordinates", "from its centre"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
         "a.coordinates[0]", "3 distinct"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, float("nan")], [1, 1]]]},
         "a.coordinates[0][1][1]", "finite"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 91], [1, 1]]]},
         "a.coordinates[0][1]", "latitude"),
        ({"type": "Polygon", "coordinates": []}, "a.coordinates[0]", "3 distinct"),
        ({"type": "Polygon", "coordinates": "x"}, "a.coordinates", "list of rings"),
        ("circle", "a", "object"),
    ],
)  # fmt: skip
def test_bad_shapes_name_the_field(obj: Any, field: str, reason: str) -> None:
    with pytest.raises(InputError) as err:
        from_geojson(obj, field="a")
    assert err.value.field == field
    assert reason in err.value.reason


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "Polygon", "coordinates": [[[170.0, 0.0], [-170.0, 0.0], [-170.0, 1.0],
                                             [170.0, 1.0], [170.0, 0.0]]]},
        {"type": "Circle", "center": [-179.5, 89.0], "radius_nm": 12.5},
        {"type": "Corridor", "coordinates": [[179.0, 1.0], [-179.0, 1.0]], "half_width_nm": 3.0},
    ],
)  # fmt: skip
def test_geojson_round_trip(obj: dict[str, Any]) -> None:
    shape = from_geojson(obj)
    assert to_geojson(shape) == obj
    assert from_geojson(to_geojson(shape)) == shape


# ---------------------------------------------------------------- buffers


def boundary_samples(shape: Polygon, step_m: float = 50.0) -> tuple[Any, Any]:
    """Points every ``step_m`` along the polygon's geodesic edges."""
    lons, lats = [], []
    ring = shape.exterior
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(ring):
        n = max(2, math.ceil(GEOD.inv(lon1, lat1, lon2, lat2)[2] / step_m))
        pts = GEOD.npts(lon1, lat1, lon2, lat2, n)
        lons += [lon1, *(p[0] for p in pts)]
        lats += [lat1, *(p[1] for p in pts)]
    return np.array(lons), np.array(lats)


def distance_to(lon: float, lat: float, lons: Any, lats: Any) -> float:
    n = lons.shape[0]
    return float(np.min(GEOD.inv(np.full(n, lon), np.full(n, lat), lons, lats)[2]))


@pytest.mark.parametrize("lat", [0.0, 60.0, -60.0, 89.0, 89.9])
@pytest.mark.parametrize("lon", [0.0, 179.99])
def test_polygon_buffer_is_right_at_any_latitude(lat: float, lon: float) -> None:
    square = square_at(lat, lon, 10_000.0)
    grown = buffered(square, 5.0)
    assert isinstance(grown, Polygon)
    lons, lats = boundary_samples(square)
    d_m = 5.0 * NM_M
    for vlon, vlat in grown.exterior[:: max(1, len(grown.exterior) // 60)]:
        dist = distance_to(vlon, vlat, lons, lats)
        assert d_m * 0.999 <= dist <= d_m * 1.01, (vlon, vlat, dist)
    assert area_km2(grown) > area_km2(square)


@pytest.mark.parametrize("lat", [0.0, 60.0, 89.0])
def test_buffer_decides_overlap_at_the_geodesic_distance(lat: float) -> None:
    # Two circles 10 NM apart edge to edge, on a meridian and on a parallel.
    for brg in (0.0, 90.0):
        a = Circle(lat if lat < 89 else 88.5, 20.0, 3.0)
        la, lo = destination([a.center_lat_deg], [20.0], [brg], [(3.0 + 10.0 + 2.0) * NM_M])
        b = Circle(float(la[0]), float(lo[0]), 2.0)
        assert overlap(a, b, buffer_nm=9.9) is None
        assert overlap(b, a, buffer_nm=9.9) is None
        assert overlap(a, b, buffer_nm=10.1) is not None


def test_circle_and_corridor_buffers_are_exact() -> None:
    c = Circle(10.0, 20.0, 5.0)
    assert buffered(c, 2.5) == Circle(10.0, 20.0, 7.5)
    k = Corridor(((0.0, 0.0), (1.0, 0.0)), 2.0)
    assert buffered(k, 3.0) == Corridor(((0.0, 0.0), (1.0, 0.0)), 5.0)
    assert buffered(k, 0.0) is k
    with pytest.raises(InputError) as err:
        buffered(k, -1.0)
    assert err.value.field == "buffer_nm"


def test_corridor_width_is_right_near_the_pole() -> None:
    k = Corridor(((0.0, 89.5), (180.0, 89.5)), 2.0)  # straight over the pole
    assert covers(k, [90.0, -90.0], [89.99, 89.99]).all()
    # 1.95 NM off the line (at the pole, across it) is in; 2.05 NM is out.
    la, lo = destination([90.0, 90.0], [0.0, 0.0], [90.0, 90.0], [1.95 * NM_M, 2.05 * NM_M])
    assert covers(k, lo, la).tolist() == [True, False]


def test_touching_shapes_do_not_overlap_without_a_buffer() -> None:
    left = box(0.0, 0.0, 0.5, 0.5)
    right = box(0.5, 0.0, 1.0, 0.5)
    assert overlap(left, right) is None
    o = overlap(left, right, buffer_nm=1.0)
    assert o is not None
    # A strip 1 NM wide (half a mile each side) along the common 0.5-degree edge, which
    # runs on half a mile past each end of it.
    assert o.area_km2 == pytest.approx(1.852 * (55.3 + 1.852), rel=0.01)


# ---------------------------------------------------------------- properties

PAIR_SETTINGS = settings(max_examples=60)


def assert_same(o1: Overlap | None, o2: Overlap | None) -> None:
    assert (o1 is None) == (o2 is None)
    if o1 is not None and o2 is not None:
        assert o1.area_km2 == pytest.approx(o2.area_km2, rel=1e-6, abs=1e-9)


@PAIR_SETTINGS
@given(pair=shape_pairs(), buffer_nm=st.sampled_from([0.0, 0.5, 5.0]))
def test_overlap_is_symmetric(pair: tuple[Shape, Shape], buffer_nm: float) -> None:
    a, b = pair
    assert_same(overlap(a, b, buffer_nm=buffer_nm), overlap(b, a, buffer_nm=buffer_nm))


@PAIR_SETTINGS
@given(pair=shape_pairs())
def test_a_shape_always_overlaps_itself(pair: tuple[Shape, Shape]) -> None:
    a, _ = pair
    o = overlap(a, a)
    assert o is not None
    assert o.area_km2 == pytest.approx(area_km2(a), rel=1e-4)
    assert all(-180.0 <= lon <= 180.0 for lon in overlap_lons(o))


@PAIR_SETTINGS
@given(pair=shape_pairs(), d1=st.floats(0.0, 10.0), extra=st.floats(0.0, 10.0))
def test_a_larger_buffer_never_finds_less(
    pair: tuple[Shape, Shape], d1: float, extra: float
) -> None:
    a, b = pair
    small = overlap(a, b, buffer_nm=d1)
    large = overlap(a, b, buffer_nm=d1 + extra)
    if small is not None:
        assert large is not None
        assert large.area_km2 >= small.area_km2 * (1.0 - 1e-9)


@PAIR_SETTINGS
@given(pair=shape_pairs(), buffer_nm=st.sampled_from([0.0, 2.0, 10.0]))
def test_overlap_lies_within_both_buffered_shapes(
    pair: tuple[Shape, Shape], buffer_nm: float
) -> None:
    """Disclosure: the overlap shows no more of either side's area than the buffered overlap."""
    a, b = pair
    o = overlap(a, b, buffer_nm=buffer_nm)
    if o is None:
        return
    half = buffer_nm / 2.0
    assert o.area_km2 <= min(area_km2(buffered(a, half)), area_km2(buffered(b, half))) * 1.0001
    pts = np.array([p for poly in o.polygons for ring in poly for p in ring])
    for shape in (a, b):
        # Tolerance: 1 % of the half buffer (projection), 0.25 % of any round part's radius
        # (round parts are polygons drawn around the arcs), and a metre (output rounding).
        radius_nm = getattr(shape, "radius_nm", getattr(shape, "half_width_nm", 0.0))
        tol_nm = half * 0.01 + (half + radius_nm) * 0.0025 + 1.0 / NM_M
        assert covers(buffered(shape, half + tol_nm), pts[:, 0], pts[:, 1]).all()


def test_corridor_out_and_back_keeps_its_whole_width() -> None:
    """GEOS loses most of the buffer of a line that retraces itself; skyparley does not."""
    there = ((1.0, 0.0), (1.0119043781965122, 0.6865647384827289))
    back = Corridor((*there, there[0]), 27.0)
    one_way = Corridor(there, 27.0)
    assert area_km2(back) == pytest.approx(area_km2(one_way), rel=1e-6)
    b1, b2 = bbox_deg(back), bbox_deg(one_way)
    assert dataclasses.astuple(b1) == pytest.approx(dataclasses.astuple(b2), abs=1e-5)


def test_overlap_round_the_south_pole_with_an_edge_past_the_pole() -> None:
    """A ring that winds round the pole and doubles back in longitude near it: every vertex
    of the RFC 7946 output, the cuts at the antimeridian and the cap's seam included, lies
    on the drawn boundary."""
    a = Circle(-89.9375, 0.0, 9.449244060475163)
    b = Polygon(((0.0, -89.80320448196899), (23.229321672224096, -89.82252648806049),
                 (44.98128111139101, -89.8765190856058), (124.83282995485723, -89.9053492456724),
                 (-55.59712238421624, -89.95291910323824), (-68.8832509479342, -89.81286207440264),
                 (-32.599696302740014, -89.740155362353)))  # fmt: skip
    o = overlap(a, b)
    assert o is not None
    pts = np.array([p for poly in o.polygons for ring in poly for p in ring])
    assert pts[:, 1].min() == -90.0
    for shape in (a, b):
        assert covers(buffered(shape, 0.03 / NM_M), pts[:, 0], pts[:, 1]).all()
    assert all(p.is_valid for p in lonlat_shapes(o))


# ---------------------------------------------------------------- shared lattice frames


def own_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Draw every pair in its own midpoint frame, as before the lattice."""
    monkeypatch.setattr(areas, "_TILE_MAX_REACH_M", 0.0)


def midpoint_offset_m(a: Shape, b: Shape, d_nm: float) -> float:
    frame, shared = areas._pair_frame(a._prepared, b._prepared, d_nm * NM_M)
    assert frame is not None
    assert shared
    mid = areas._frame_of(np.array(a._prepared.unit) + np.array(b._prepared.unit))
    assert mid is not None
    return float(GEOD.inv(frame.lon_deg, frame.lat_deg, mid.lon_deg, mid.lat_deg)[2])


# Midpoints half a lattice step off the nodes in latitude and longitude (the worst case),
# on the equator, at 60 degrees, near the lattice's last rows and across the antimeridian.
FAR_FROM_NODES = [(0.5, 0.5), (60.5, 20.9), (-60.5, -20.9), (79.5, 7.5), (-0.5, 179.7)]


@pytest.mark.parametrize(("lat", "lon"), FAR_FROM_NODES)
def test_buffer_decides_overlap_far_from_a_lattice_node(lat: float, lon: float) -> None:
    # Two circles 10 NM apart edge to edge, on a meridian and on a parallel, their pair's
    # midpoint far from the lattice node whose frame draws them.
    for brg in (0.0, 90.0):
        la, lo = destination([lat, lat], [lon, lon], [brg + 180.0, brg], [7.5 * NM_M] * 2)
        a = Circle(float(la[0]), float(lo[0]), 3.0)
        b = Circle(float(la[1]), float(lo[1]), 2.0)
        assert midpoint_offset_m(a, b, 10.0) > 40_000.0
        assert overlap(a, b, buffer_nm=9.9) is None
        assert overlap(b, a, buffer_nm=9.9) is None
        assert overlap(a, b, buffer_nm=10.1) is not None


@pytest.mark.parametrize(("lat", "lon"), FAR_FROM_NODES)
def test_shared_frame_gives_the_overlap_of_the_pairs_own_frame(
    lat: float, lon: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    la, lo = destination([lat] * 3, [lon] * 3, [200.0, 20.0, 100.0], [20_000.0, 20_000.0, 5_000.0])
    shapes: list[Shape] = [
        square_at(float(la[0]), float(lo[0]), 30_000.0),
        Circle(float(la[1]), float(lo[1]), 15.0),
        Corridor(((float(lo[2]), float(la[2])), (float(lo[0]), float(la[0]))), 2.0),
    ]
    shared = {
        (i, j, d): overlap(shapes[i], shapes[j], buffer_nm=d)
        for i, j in itertools.permutations(range(3), 2)
        for d in (0.0, 5.0)
    }
    assert all(midpoint_offset_m(shapes[i], shapes[j], d) > 0.0 for i, j, d in shared)
    own_frames(monkeypatch)
    for (i, j, d), o in shared.items():
        own = overlap(shapes[i], shapes[j], buffer_nm=d)
        assert o is not None
        assert own is not None
        assert o.area_km2 == pytest.approx(own.area_km2, rel=1e-4)
        # The outlines agree to a few metres (both drawings are within 0.01 % of the truth).
        diff = shapely.symmetric_difference(
            shapely.union_all(lonlat_shapes(o)), shapely.union_all(lonlat_shapes(own))
        )
        assert diff.area < 1e-4 * shapely.union_all(lonlat_shapes(own)).area


def test_a_shape_draws_itself_once_per_node_and_keeps_a_few() -> None:
    hub = Circle(10.3, 20.2, 5.0)
    first = Circle(10.35, 20.25, 3.0)
    assert overlap(hub, first, buffer_nm=5.0) is not None
    drawings = dict(hub._prepared.tiles)
    assert len(drawings) == 1
    for k in range(5):  # other pairs near the same node reuse the drawing
        assert overlap(Circle(10.2 + 0.02 * k, 20.1, 2.0), hub, buffer_nm=5.0) is not None
    assert hub._prepared.tiles == drawings
    assert all(v is drawings[k] for k, v in hub._prepared.tiles.items())
    for k in range(8):  # other buffers: the least recently used drawings are dropped
        assert overlap(hub, first, buffer_nm=6.0 + k) is not None
    assert len(hub._prepared.tiles) == areas._TILE_CACHE
    assert not set(drawings) & set(hub._prepared.tiles)


def test_overlap_positions_carry_seven_decimals_and_rings_stay_closed() -> None:
    a = Circle(center_lat_deg=35.0, center_lon_deg=38.0, radius_nm=10.0)
    b = Circle(center_lat_deg=35.1, center_lon_deg=38.1, radius_nm=8.0)
    o = overlap(a, b)
    assert o is not None
    coords = [c for poly in o.polygons for ring in poly for p in ring for c in p]
    assert coords
    assert all(round(c, 7) == c for c in coords)
    assert any(round(c, 6) != c for c in coords)  # rounded, not cut short
    for poly in o.polygons:
        for ring in poly:
            assert ring[0] == ring[-1]
            assert len(ring) >= 4
            assert all(p != q for p, q in itertools.pairwise(ring))
    assert covers(buffered(a, 0.02 / 1852.0), *np.array(coords).reshape(-1, 2).T).all()
