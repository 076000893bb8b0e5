"""The strategic index: checks through it find exactly what checks against everything find."""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import numpy as np
import pytest

from skyparley.adapters.protocol_file import load_protocol
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.protocol import Protocol
from skyparley.domain.strategic import Finding, check_notice
from skyparley.domain.strategic_index import ItemKey, StrategicIndex, key_of
from skyparley.domain.volumes import AltitudeBand, TimeWindow, Volume4D
from skyparley.geo.areas import AreaLimits, Circle, Corridor, Polygon, Shape
from skyparley.geo.wgs84 import destination

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_444_467_600.0
PARTIES = ("coalition", "russia", "relief")
CENTRES = {"syria": (35.0, 37.0), "antimeridian": (10.0, 179.9), "pole": (89.6, 0.0)}
_LIMITS = AreaLimits(max_area_km2=None)

Item = OperationNotice | ProtectedArea


@functools.cache
def protocol() -> Protocol:
    p = load_protocol(ROOT / "src/skyparley/data/protocols/syria-2015.yaml")
    return dataclasses.replace(p, zones=())


def _shape(rng: np.random.Generator, where: str) -> Shape:
    lat0, lon0 = CENTRES[where]
    brg, dist = rng.uniform(0.0, 360.0), rng.uniform(0.0, 60_000.0)
    la, lo = destination([lat0], [lon0], [brg], [dist])
    lat, lon = float(la[0]), float(lo[0])
    size = rng.uniform(2_000.0, 25_000.0)
    kind = int(rng.integers(3))
    if kind == 0:
        return Circle(lat, lon, size / 1852.0, limits=_LIMITS)
    n = int(rng.integers(3, 8)) if kind == 1 else int(rng.integers(2, 4))
    bearings = np.sort(rng.uniform(0.0, 360.0, n)) if kind == 1 else rng.uniform(0, 360.0, n)
    pla, plo = destination(np.full(n, lat), np.full(n, lon), bearings, np.full(n, size))
    pts = tuple(zip(plo.tolist(), pla.tolist(), strict=True))
    if kind == 1:
        return Polygon(pts, limits=_LIMITS)
    return Corridor(pts, rng.uniform(0.5, 3.0), limits=_LIMITS)


def _volume(rng: np.random.Generator, where: str) -> Volume4D:
    lo = float(rng.integers(0, 20)) * 1000.0
    start = T0 + float(rng.integers(0, 36)) * 600.0
    return Volume4D(
        _shape(rng, where),
        AltitudeBand(lo, lo + float(rng.integers(1, 8)) * 1000.0),
        TimeWindow(start, start + float(rng.integers(1, 18)) * 600.0),
    )


def _item(rng: np.random.Generator, where: str, k: int, version: int = 1) -> Item:
    """Item ``k``: its party and type depend on ``k`` only, so versions share a key."""
    party = PARTIES[k % len(PARTIES)]
    if k % 4 == 0:
        kind = ("friendly_forces", "humanitarian", "civil", "other")[int(rng.integers(4))]
        return ProtectedArea(party, f"pa-{k}", kind, _volume(rng, where), version=version)
    state = ("planned", "active", "ended", "cancelled")[int(rng.choice(4, p=[0.6, 0.2, 0.1, 0.1]))]
    volumes = tuple(_volume(rng, where) for _ in range(int(rng.integers(1, 4))))
    return OperationNotice(party, f"n-{k}", version, state, volumes)


def _live(rng: np.random.Generator, where: str, k: int) -> OperationNotice:
    party = PARTIES[int(rng.integers(2))]
    volumes = tuple(_volume(rng, where) for _ in range(int(rng.integers(1, 4))))
    return OperationNotice(party, f"q-{k}", 1, "planned", volumes)


def _by_lists(notice: OperationNotice, everything: list[Item]) -> tuple[Finding, ...]:
    return check_notice(
        notice,
        protocol(),
        notices=[o for o in everything if isinstance(o, OperationNotice)],
        protected_areas=[o for o in everything if isinstance(o, ProtectedArea)],
        now_s=T0 - 86_400.0,
    )


def _by_index(notice: OperationNotice, index: StrategicIndex) -> tuple[Finding, ...]:
    return check_notice(notice, protocol(), candidates=index.candidates, now_s=T0 - 86_400.0)


def _new_index() -> StrategicIndex:
    return StrategicIndex(protocol().strategic)


@pytest.mark.parametrize("where", sorted(CENTRES))
@pytest.mark.parametrize("seed", [0, 1])
def test_checks_through_the_index_find_exactly_what_full_lists_find(where: str, seed: int) -> None:
    rng = np.random.default_rng([seed, sum(map(ord, where))])
    everything = [_item(rng, where, k) for k in range(60)]
    # New versions, some ending or cancelling the notice, some arriving out of order.
    everything += [
        _item(rng, where, k, version=int(rng.integers(2, 4)))
        for k in rng.choice(60, size=20, replace=False).tolist()
    ]
    index = _new_index()
    for item in everything:
        index.upsert(item)
    found = 0
    for q in range(15):
        notice = _live(rng, where, q)
        expected = _by_lists(notice, everything)
        assert _by_index(notice, index) == expected
        found += len(expected)
    assert found > 0  # the scenes are dense enough to conflict


def test_updates_keep_the_index_right() -> None:
    rng = np.random.default_rng(7)
    everything: dict[ItemKey, Item] = {}
    versions: dict[int, int] = {}
    index = _new_index()
    queries = [_live(rng, "syria", q) for q in range(8)]
    for step in range(120):
        k = int(rng.integers(40))
        key = key_of(_item(rng, "syria", k))
        if rng.uniform() < 0.15:
            assert index.remove(key) is everything.pop(key, None)
        else:
            versions[k] = version = versions.get(k, 0) + 1
            item = _item(rng, "syria", k, version=version)
            index.upsert(item)
            if isinstance(item, OperationNotice) and not item.is_live:
                everything.pop(key_of(item), None)
            else:
                everything[key_of(item)] = item
        if step % 10 == 9:
            assert {key_of(i) for i in index} == set(everything)
            for notice in queries:
                assert _by_index(notice, index) == _by_lists(notice, list(everything.values()))


def _one_volume_notice(state: str = "planned", version: int = 1) -> OperationNotice:
    v = Volume4D(Circle(35.0, 37.0, 10.0), AltitudeBand(0.0, 10_000.0), TimeWindow(T0, T0 + 3600))
    return OperationNotice("coalition", "co-1", version, state, (v,))


def test_a_new_version_replaces_the_old_and_an_older_one_is_ignored() -> None:
    index = _new_index()
    v1 = _one_volume_notice()
    far = dataclasses.replace(
        v1.volumes[0], area=Circle(35.0, 37.0 + math.degrees(0.05), 10.0)
    )  # about 250 NM east
    v2 = dataclasses.replace(v1, version=2, volumes=(far,))
    assert index.upsert(v1)
    assert index.candidates(v1.volumes[0]) == [v1]
    assert index.upsert(v2)
    assert index.candidates(v1.volumes[0]) == []
    assert index.candidates(far) == [v2]
    assert not index.upsert(v1)  # stale: v2 is newer
    assert index.get(key_of(v1)) is v2
    assert len(index) == 1


@pytest.mark.parametrize("state", ["ended", "cancelled"])
def test_ended_and_cancelled_notices_are_taken_out_for_good(state: str) -> None:
    index = _new_index()
    v1 = _one_volume_notice()
    index.upsert(v1)
    assert not index.upsert(_one_volume_notice(state, version=2))
    assert key_of(v1) not in index
    assert index.candidates(v1.volumes[0]) == []
    assert not index.upsert(v1)  # an older version arriving late stays out


def test_remove_takes_out_every_volume() -> None:
    index = _new_index()
    n = _one_volume_notice()
    two = dataclasses.replace(n, volumes=(n.volumes[0], n.volumes[0]))
    index.upsert(two)
    assert index.remove(key_of(two)) is two
    assert index.remove(key_of(two)) is None
    assert index.candidates(n.volumes[0]) == []
    assert len(index) == 0
