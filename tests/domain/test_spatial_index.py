"""The space-time index: never misses an overlap, anywhere on Earth, through every update."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import volume_pairs

from skyparley.domain.spatial_index import SpaceTimeIndex, bounding_cap
from skyparley.domain.volumes import AltitudeBand, TimeWindow, Volume4D, overlap_4d
from skyparley.errors import InputError
from skyparley.geo.areas import AreaLimits, Circle, Corridor, Polygon, Shape
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import destination

T0 = 1_444_467_600.0  # 2015-10-10T09:00:00Z
BUFFERS = {"lateral_nm": 5.0, "vertical_ft": 1000.0, "time_min": 15.0}
_NO_AREA_LIMIT = AreaLimits(max_area_km2=None)


# ---------------------------------------------------------------- random volumes


def _point(lat: float, lon: float, bearing: float, dist_m: float) -> tuple[float, float]:
    la, lo = destination([lat], [lon], [bearing], [dist_m])
    return float(lo[0]), float(la[0])


def _shape(rng: np.random.Generator, lat: float, lon: float, size_m: float) -> Shape:
    kind = rng.integers(3)
    if kind == 0:
        return Circle(lat, lon, size_m * rng.uniform(0.2, 1.0) / NM_M)
    if kind == 1:
        pts = [
            _point(lat, lon, rng.uniform(0, 360), rng.uniform(0.0, size_m))
            for _ in range(rng.integers(2, 5))
        ]
        pts.append(_point(lat, lon, rng.uniform(0, 360), size_m))
        return Corridor(tuple(pts), size_m * rng.uniform(0.05, 0.4) / NM_M)
    n = int(rng.integers(3, 9))  # one vertex per sector: a simple, star-shaped ring
    ring = [
        _point(lat, lon, 360.0 / n * (k + rng.uniform(0, 0.4)), size_m * rng.uniform(0.3, 1.0))
        for k in range(n)
    ]
    return Polygon(tuple(ring[:: int(rng.choice([-1, 1]))]))


def _centre(rng: np.random.Generator, where: str) -> tuple[float, float]:
    """``(lat, lon)``: anywhere, near a pole, across the antimeridian, or in one hot spot."""
    if where == "anywhere":
        z = rng.uniform(-1.0, 1.0)
        return math.degrees(math.asin(z)), rng.uniform(-180.0, 180.0)
    if where == "pole":
        return float(rng.choice([-1.0, 1.0])) * rng.uniform(86.0, 90.0), rng.uniform(-180, 180)
    if where == "antimeridian":
        lon = rng.uniform(178.5, 181.5)
        lat = rng.uniform(-2.0, 2.0) if rng.random() < 0.5 else rng.uniform(60.0, 63.0)
        return lat, (lon + 180.0) % 360.0 - 180.0
    return rng.uniform(34.8, 35.2), rng.uniform(38.8, 39.2)


def _volume(rng: np.random.Generator, where: str, size_m: float, hours: float) -> Volume4D:
    lat, lon = _centre(rng, where)
    lo = float(rng.integers(0, 30)) * 1000.0
    start = T0 + rng.uniform(0.0, hours) * 3600.0
    return Volume4D(
        _shape(rng, lat, lon, size_m),
        AltitudeBand(lo, lo + float(rng.integers(1, 12)) * 1000.0),
        TimeWindow(start, start + rng.uniform(0.25, 4.0) * 3600.0),
    )


def _circles(rng: np.random.Generator, n: int) -> list[Volume4D]:
    """Many cheap volumes everywhere: circles from 1 NM to 600 NM, a third at the edges."""
    out = []
    for i in range(n):
        where = ("anywhere", "pole", "antimeridian")[i % 3]
        lat, lon = _centre(rng, where)
        radius = float(np.exp(rng.uniform(math.log(1.0), math.log(600.0))))
        lo = float(rng.integers(0, 40)) * 1000.0
        start = T0 + rng.uniform(0.0, 48.0) * 3600.0
        out.append(
            Volume4D(
                Circle(lat, lon, radius, limits=_NO_AREA_LIMIT),
                AltitudeBand(lo, lo + float(rng.integers(1, 20)) * 1000.0),
                TimeWindow(start, start + rng.uniform(0.25, 12.0) * 3600.0),
            )
        )
    return out


def _exact(query: Volume4D, volumes: dict[int, Volume4D], **buffers: float) -> set[int]:
    return {k for k, v in volumes.items() if overlap_4d(query, v, **buffers) is not None}


def _cap_scan(query: Volume4D, volumes: dict[int, Volume4D], slack: float, **b: float) -> set[int]:
    """The index's own prefilter, by brute force in plain floats: a reference for the grid.

    ``slack`` (radians and relative) moves the test's edges, to keep rounding out of it.
    """
    q = bounding_cap(query.area)
    out = set()
    for k, v in volumes.items():
        c = bounding_cap(v.area)
        reach = q.radius_rad + c.radius_rad + (1.05 * b["lateral_nm"] * NM_M + 1.0) / 6335439.3
        dot = q.x * c.x + q.y * c.y + q.z * c.z
        angle = math.acos(max(-1.0, min(1.0, dot)))
        qw, vw, qb, vb = query.window, v.window, query.band, v.band
        gap_s = max(qw.start_s, vw.start_s) - min(qw.end_s, vw.end_s)
        gap_ft = max(qb.lower_ft, vb.lower_ft) - min(qb.upper_ft, vb.upper_ft)
        in_time = gap_s <= b["time_min"] * 60.0 * (1 + slack)
        in_band = gap_ft <= b["vertical_ft"] * (1 + slack)
        if in_time and in_band and angle <= reach * (1 + slack) + slack:
            out.add(k)
    return out


# ---------------------------------------------------------------- never misses


@pytest.mark.parametrize("where", ["anywhere", "pole", "antimeridian", "hot"])
def test_candidates_hold_every_exact_overlap(where: str) -> None:
    rng = np.random.default_rng(sum(map(ord, where)))
    size = {"anywhere": 250_000.0, "pole": 60_000.0, "antimeridian": 80_000.0, "hot": 8_000.0}
    hours = 6.0 if where != "anywhere" else 12.0
    volumes = {i: _volume(rng, where, size[where], hours) for i in range(150)}
    index: SpaceTimeIndex[int] = SpaceTimeIndex()
    index.add_many(volumes.items())
    found = 0
    for q in range(25):
        query = _volume(rng, where, size[where], hours)
        buffers = {"lateral_nm": [0.0, 5.0, 20.0][q % 3], "vertical_ft": 1000.0 * (q % 2),
                   "time_min": 15.0 * (q % 3)}  # fmt: skip
        exact = _exact(query, volumes, **buffers)
        cands = index.candidates(query, **buffers)
        assert len(cands) == len(set(cands))
        assert exact <= set(cands), f"missed {sorted(exact - set(cands))} for query {q}"
        found += len(exact)
    # The clustered scenes are dense enough for the test to mean something; "anywhere" is
    # there for the grid's coverage of the whole sphere.
    assert found >= (0 if where == "anywhere" else 25)


@pytest.mark.parametrize(("cell_deg", "max_cells"), [(0.5, 256), (2.0, 256), (7.5, 4), (1.0, 1)])
def test_grid_agrees_with_a_scan_of_every_cap(cell_deg: float, max_cells: int) -> None:
    rng = np.random.default_rng(7)
    volumes = dict(enumerate(_circles(rng, 900)))
    index: SpaceTimeIndex[int] = SpaceTimeIndex(cell_deg=cell_deg, max_cells=max_cells)
    for k, v in volumes.items():  # one by one here, in bulk in the other tests
        index.add(k, v)
    for query in _circles(rng, 60):
        cands = set(index.candidates(query, **BUFFERS))
        inner = _cap_scan(query, volumes, -1e-9, **BUFFERS)
        outer = _cap_scan(query, volumes, 1e-9, **BUFFERS)
        assert inner <= cands <= outer


@settings(max_examples=60)
@given(pair=volume_pairs(), lateral=st.sampled_from([0.0, 1.0, 10.0]),
       vertical=st.sampled_from([0.0, 500.0]), minutes=st.sampled_from([0.0, 10.0]))  # fmt: skip
def test_any_overlapping_pair_is_a_candidate(
    pair: tuple[Volume4D, Volume4D], lateral: float, vertical: float, minutes: float
) -> None:
    a, b = pair
    buffers = {"lateral_nm": lateral, "vertical_ft": vertical, "time_min": minutes}
    index: SpaceTimeIndex[str] = SpaceTimeIndex()
    index.add("a", a)
    if overlap_4d(a, b, **buffers) is not None:
        assert index.candidates(b, **buffers) == ["a"]


# ---------------------------------------------------------------- the antimeridian, the poles


def test_a_box_across_the_antimeridian_is_found_from_both_sides() -> None:
    box = Polygon(((170.0, 0.0), (-170.0, 0.0), (-170.0, 1.0), (170.0, 1.0)))
    window, band = TimeWindow(T0, T0 + 3600.0), AltitudeBand(0.0, 10_000.0)
    index: SpaceTimeIndex[str] = SpaceTimeIndex()
    index.add("box", Volume4D(box, band, window))
    for lon, hit in [(-179.99, True), (179.99, True), (-171.0, True), (171.0, True),
                     (0.0, False), (-160.0, False), (160.0, False)]:  # fmt: skip
        query = Volume4D(Circle(0.5, lon, 5.0), band, window)
        assert (index.candidates(query, **BUFFERS) == ["box"]) is hit, lon
        assert (overlap_4d(query, index.get("box"), **BUFFERS) is not None) is hit, lon


def test_a_polar_cap_is_found_at_every_longitude_and_prunes_below_it() -> None:
    ring = tuple((float(lon), 85.0) for lon in range(-180, 180, 10))
    window, band = TimeWindow(T0, T0 + 3600.0), AltitudeBand(0.0, 10_000.0)
    cap = Volume4D(Polygon(ring, limits=_NO_AREA_LIMIT), band, window)
    index: SpaceTimeIndex[str] = SpaceTimeIndex()
    index.add("cap", cap)
    index.add("south", Volume4D(Circle(-89.9, 45.0, 20.0), band, window))
    for lon in range(-180, 181, 15):
        query = Volume4D(Circle(88.0, float(lon), 5.0), band, window)
        assert index.candidates(query, **BUFFERS) == ["cap"]
        assert overlap_4d(query, cap, **BUFFERS) is not None
        far = Volume4D(Circle(70.0, float(lon), 5.0), band, window)
        assert index.candidates(far, **BUFFERS) == []
    at_pole = Volume4D(Circle(90.0, 0.0, 1.0), band, window)
    assert index.candidates(at_pole, **BUFFERS) == ["cap"]
    south = Volume4D(Circle(-89.0, -135.0, 50.0), band, window)
    assert index.candidates(south, **BUFFERS) == ["south"]


# ---------------------------------------------------------------- pruning


def test_time_altitude_and_distance_each_prune() -> None:
    band, window = AltitudeBand(10_000.0, 20_000.0), TimeWindow(T0, T0 + 3600.0)
    here = Circle(35.0, 39.0, 10.0)
    index: SpaceTimeIndex[str] = SpaceTimeIndex()
    index.add_many([
        ("same", Volume4D(here, band, window)),
        ("next day", Volume4D(here, band, TimeWindow(T0 + 86_400.0, T0 + 90_000.0))),
        ("in 20 min", Volume4D(here, band, TimeWindow(T0 + 4800.0, T0 + 8000.0))),
        ("above", Volume4D(here, AltitudeBand(30_000.0, 40_000.0), window)),
        ("1500 ft above", Volume4D(here, AltitudeBand(21_500.0, 25_000.0), window)),
        ("far", Volume4D(Circle(35.0, 45.0, 10.0), band, window)),
        ("30 NM off", Volume4D(Circle(35.0 + 40.0 / 60.0, 39.0, 10.0), band, window)),
    ])  # fmt: skip
    query = Volume4D(here, band, window)

    def found(**b: float) -> set[str]:
        return set(index.candidates(query, **b))

    assert found(lateral_nm=0.0, vertical_ft=0.0, time_min=0.0) == {"same"}
    assert found(lateral_nm=0.0, vertical_ft=0.0, time_min=45.0) == {"same", "in 20 min"}
    assert found(lateral_nm=0.0, vertical_ft=2000.0, time_min=0.0) == {"same", "1500 ft above"}
    assert found(lateral_nm=25.0, vertical_ft=0.0, time_min=0.0) == {"same", "30 NM off"}
    # A larger buffer never finds fewer candidates.
    assert found(**BUFFERS) <= found(lateral_nm=30.0, vertical_ft=2000.0, time_min=60.0)


@pytest.mark.parametrize("lat", [0.0, 45.0, 89.0, -89.9])
def test_edges_just_inside_every_buffer_are_candidates(lat: float) -> None:
    band, window = AltitudeBand(10_000.0, 20_000.0), TimeWindow(T0, T0 + 3600.0)
    here = Circle(lat, 179.99, 10.0)
    # 10 + 10 + 5 NM apart less a metre, eastward across the antimeridian.
    lon, lat2 = _point(lat, 179.99, 90.0, 25.0 * NM_M - 1.0)
    index: SpaceTimeIndex[str] = SpaceTimeIndex()
    index.add_many([
        ("time", Volume4D(here, band, TimeWindow(T0 + 4499.999, T0 + 8000.0))),
        ("before", Volume4D(here, band, TimeWindow(T0 - 8000.0, T0 - 899.999))),
        ("band", Volume4D(here, AltitudeBand(20_999.99, 25_000.0), window)),
        ("below", Volume4D(here, AltitudeBand(5_000.0, 9_000.01), window)),
        ("lateral", Volume4D(Circle(lat2, lon, 10.0), band, window)),
    ])  # fmt: skip
    query = Volume4D(here, band, window)
    for key in index:
        assert overlap_4d(query, index.get(key), **BUFFERS) is not None, key
    assert len(index.candidates(query, **BUFFERS)) == 5


def test_a_scattered_index_reads_a_small_share_of_its_volumes() -> None:
    rng = np.random.default_rng(11)
    volumes = _circles(rng, 3000)
    index: SpaceTimeIndex[int] = SpaceTimeIndex()
    index.add_many(enumerate(volumes))
    counts = [len(index.candidates(q, **BUFFERS)) for q in _circles(rng, 100)]
    assert float(np.mean(counts)) < 0.02 * len(volumes)


# ---------------------------------------------------------------- updates


def test_add_remove_replace_keep_the_index_right() -> None:
    rng = np.random.default_rng(3)
    pool = _circles(rng, 400)
    model: dict[int, Volume4D] = {}
    index: SpaceTimeIndex[int] = SpaceTimeIndex(cell_deg=1.0, max_cells=32)
    queries = _circles(rng, 15)
    for step in range(1200):
        key = int(rng.integers(150))
        volume = pool[int(rng.integers(len(pool)))]
        if key in model and rng.random() < 0.5:
            assert index.remove(key) is model.pop(key)
        elif key in model:
            assert index.replace(key, volume) is model[key]
            model[key] = volume
        else:
            index.add(key, volume)
            model[key] = volume
        if step % 100 == 99:
            assert len(index) == len(model)
            assert set(index) == set(model)
            assert all(index.get(k) is v for k, v in model.items())
            fresh: SpaceTimeIndex[int] = SpaceTimeIndex()
            fresh.add_many(model.items())
            for q in queries:
                assert sorted(index.candidates(q, **BUFFERS)) == sorted(
                    fresh.candidates(q, **BUFFERS)
                )
    for k in list(model):
        index.remove(k)
    assert len(index) == 0
    assert index.candidates(queries[0], **BUFFERS) == []
    assert index._cells == {}  # no entry is left behind in any cell


def test_keys_are_checked() -> None:
    v = _circles(np.random.default_rng(1), 1)[0]
    index: SpaceTimeIndex[tuple[str, int]] = SpaceTimeIndex()
    index.add(("n-1", 0), v)
    with pytest.raises(KeyError, match="already indexed"):
        index.add(("n-1", 0), v)
    with pytest.raises(KeyError, match="already indexed"):
        index.add_many([(("n-2", 0), v), (("n-1", 0), v)])
    with pytest.raises(KeyError, match="already indexed"):
        index.add_many([(("n-2", 0), v), (("n-2", 0), v)])
    assert len(index) == 1  # a refused batch adds nothing
    with pytest.raises(KeyError):
        index.remove(("n-3", 0))
    with pytest.raises(KeyError):
        index.replace(("n-3", 0), v)
    assert ("n-1", 0) in index
    assert ("n-3", 0) not in index


@pytest.mark.parametrize(
    ("buffers", "field"),
    [
        ({"lateral_nm": -1.0, "vertical_ft": 0.0, "time_min": 0.0}, "lateral_nm"),
        ({"lateral_nm": 0.0, "vertical_ft": math.nan, "time_min": 0.0}, "vertical_ft"),
        ({"lateral_nm": 0.0, "vertical_ft": 0.0, "time_min": math.inf}, "time_min"),
    ],
)
def test_bad_buffers_name_the_field(buffers: dict[str, float], field: str) -> None:
    index: SpaceTimeIndex[int] = SpaceTimeIndex()
    with pytest.raises(InputError) as err:
        index.candidates(_circles(np.random.default_rng(1), 1)[0], **buffers)
    assert err.value.field == field


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(InputError, match="cell_deg"):
        SpaceTimeIndex(cell_deg=0.0)
    with pytest.raises(InputError, match="max_cells"):
        SpaceTimeIndex(max_cells=0)
