"""Strategic checks: the Syria beats, sides of a line, zones, disclosure, ids and properties."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import volume_pairs

from skyparley.adapters.notice_files import load_plan_items
from skyparley.adapters.protocol_file import load_protocol
from skyparley.domain.notices import OperationNotice, ProtectedArea
from skyparley.domain.protocol import Protocol, StrategicBuffers, Zone, ZoneRules
from skyparley.domain.strategic import Finding, check_notice, side_region
from skyparley.domain.times import parse_time
from skyparley.domain.volumes import Volume4D
from skyparley.errors import InputError
from skyparley.geo.areas import Circle, Polygon, buffered, covers
from skyparley.geo.wgs84 import destination, geodesic_inverse

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "src/skyparley/data/scenarios/syria-2015"
EUPHRATES = "euphrates-line"


@functools.cache
def protocol() -> Protocol:
    return load_protocol(ROOT / "src/skyparley/data/protocols/syria-2015.yaml")


def without_zones(p: Protocol | None = None) -> Protocol:
    return dataclasses.replace(p or protocol(), zones=())


def with_buffers(lateral_nm: float, vertical_ft: float, time_min: float) -> Protocol:
    return dataclasses.replace(
        without_zones(), strategic=StrategicBuffers(lateral_nm, vertical_ft, time_min)
    )


def scenario(name: str) -> Any:
    (item,) = load_plan_items(SCENARIO / f"{name}.json")
    return item


def everything() -> tuple[Any, ...]:
    return load_plan_items(SCENARIO)


def t(text: str) -> float:
    return parse_time(text, field="t")


def check(
    notice: OperationNotice, others: tuple[Any, ...] | list[Any] = (), p: Protocol | None = None
) -> tuple[Finding, ...]:
    return check_notice(
        notice,
        p or protocol(),
        notices=[o for o in others if isinstance(o, OperationNotice)],
        protected_areas=[o for o in others if isinstance(o, ProtectedArea)],
        now_s=t("2015-09-30T00:00:00Z"),
    )


def seen_by(findings: tuple[Finding, ...], party: str) -> list[Finding]:
    return [f for f in findings if f.reader == party]


def volume(area: dict[str, Any], **over: Any) -> Volume4D:
    obj: dict[str, Any] = {
        "area": area,
        "lower": "FL150",
        "upper": "FL300",
        "start": "2015-10-10T09:00:00Z",
        "end": "2015-10-10T11:00:00Z",
    }
    obj.update(over)
    return Volume4D.from_dict(obj)


def band_and_window() -> tuple[Any, Any]:
    """FL150-FL300, 2015-10-10 09:00-11:00."""
    v = volume(circle(0.0, 0.0, 1.0))
    return v.band, v.window


def circle(lon: float, lat: float, r_nm: float) -> dict[str, Any]:
    return {"type": "Circle", "center": [lon, lat], "radius_nm": r_nm}


def notice(party: str, *volumes: Volume4D, nid: str = "n1", **kw: Any) -> OperationNotice:
    return OperationNotice(party, nid, kw.pop("version", 1), kw.pop("state", "planned"),
                           volumes, **kw)  # fmt: skip


def positions(geojson: dict[str, Any]) -> list[tuple[float, float]]:
    polys = [geojson["coordinates"]] if geojson["type"] == "Polygon" else geojson["coordinates"]
    return [(p[0], p[1]) for poly in polys for ring in poly for p in ring]


def assert_within(geojson: dict[str, Any], shape: Any, grow_nm: float) -> None:
    """Every vertex of the finding's geometry lies in ``shape`` grown by ``grow_nm``."""
    pts = positions(geojson)
    lon = [p[0] for p in pts]
    lat = [p[1] for p in pts]
    assert covers(buffered(shape, grow_nm), lon, lat).all()


# ---------------------------------------------------------------- the Syria beats


def test_beat_1_russia_learns_only_the_overlap_with_the_relief_hospital() -> None:
    homs = scenario("beat1-russia-homs-hama")
    hospital = scenario("beat1-relief-hama-hospital")
    findings = check(homs, everything())
    (mine,) = seen_by(findings, "russia")
    assert mine.kind == "protected_area"
    assert mine.other == "a protected area of relief"
    assert mine.area_kind == "humanitarian"
    assert mine.other_volume is None
    assert mine.overlap is not None
    # Only the overlap: within half the lateral buffer (2.5 NM) of the hospital's 1 NM circle,
    # in the notice's band and window grown by half the buffers.
    assert_within(mine.overlap.area.to_geojson(), hospital.volume.area, 2.5 + 0.01)
    assert (mine.overlap.lower_ft, mine.overlap.upper_ft) == (14500.0, 30500.0)
    assert (mine.overlap.start_s, mine.overlap.end_s) == (
        t("2015-09-30T05:52:30Z"),
        t("2015-09-30T09:07:30Z"),
    )
    text = json.dumps(mine.to_dict())
    assert "relief-hama-hospital" not in text
    assert "FL450" not in text
    assert "45000" not in text
    # relief is told that russia was notified, with the same finding id.
    (told,) = seen_by(findings, "relief")
    assert told.id == mine.id
    assert told.other == "russia"
    assert (told.subject.type, told.subject.id) == ("protected_area", "relief-hama-hospital")
    assert "russia was notified" in told.detail
    assert told.overlap == mine.overlap
    assert len(findings) == 2


def test_beat_2_conflict_to_both_then_a_one_hour_shift_clears_it() -> None:
    v1 = scenario("beat2-russia-raqqa-v1")
    v2 = scenario("beat2-russia-raqqa-v2")
    coalition = scenario("beat2-coalition-raqqa")
    findings = check(v1, everything())
    (ru,) = seen_by(findings, "russia")
    (co,) = seen_by(findings, "coalition")
    assert ru.kind == co.kind == "notice_conflict"
    assert (ru.other, co.other) == ("coalition", "russia")
    assert ru.id == co.id
    assert (co.subject.id, co.subject.version) == ("co-20150930-raqqa", 1)
    assert ru.overlap is not None
    assert (ru.overlap.start_s, ru.overlap.end_s) == (
        t("2015-09-30T06:52:30Z"),
        t("2015-09-30T07:37:30Z"),
    )
    # Version 2, an hour later, clears it: 30 minutes apart, beyond the 15-minute buffer.
    assert v2.version == 2
    assert check(v2, everything()) == ()
    # From the coalition's side: against v1 alone the same finding; with v2 filed too, v1 is
    # superseded and the coalition's notice is clear.
    back = check(coalition, [v1])
    assert {(f.reader, f.id) for f in back} == {(f.reader, f.id) for f in findings}
    assert check(coalition, [v1, v2]) == ()
    assert check(coalition, [v2, v1]) == ()


def test_beat_5_deir_ez_zor_two_hours_ahead_east_of_the_euphrates() -> None:
    dez = scenario("beat5-russia-deir-ez-zor")
    findings = seen_by(check(dez, everything()), "russia")
    assert [f.kind for f in findings] == ["protected_area", "zone_notice"]
    area, zone = findings
    assert area.other == "a protected area of coalition"
    assert area.area_kind == "friendly_forces"
    assert zone.other == EUPHRATES
    assert "filed 2 h before volume 0 starts" in zone.detail
    assert "24 h" in zone.detail
    # The zone finding shows the part of russia's own volume east of the line.
    assert zone.overlap is not None
    assert (zone.overlap.lower_ft, zone.overlap.upper_ft) == (10000.0, 30000.0)
    # Filed 25 hours ahead, the rule is met.
    early = dataclasses.replace(dez, filed_s=t("2017-09-09T07:00:00Z"))
    assert [f.kind for f in seen_by(check(early, everything()), "russia")] == ["protected_area"]


def test_the_filing_time_defaults_to_now_when_the_notice_has_none() -> None:
    dez = dataclasses.replace(scenario("beat5-russia-deir-ez-zor"), filed_s=None)
    late = check_notice(dez, protocol(), now_s=t("2017-09-10T07:00:00Z"))
    assert [f.kind for f in late] == ["zone_notice"]
    assert "filed 1 h before" in late[0].detail
    after = check_notice(dez, protocol(), now_s=t("2017-09-10T08:30:00Z"))
    assert "0.5 h after volume 0 started" in after[0].detail
    assert check_notice(dez, protocol(), now_s=t("2017-09-08T00:00:00Z")) == ()


# ---------------------------------------------------------------- sides of a line


def late_notice(lon: float, lat: float, r_nm: float = 3.0) -> OperationNotice:
    """A russia notice filed 2 h before it starts, around (lon, lat)."""
    return notice("russia", volume(circle(lon, lat, r_nm)), filed_s=t("2015-10-10T07:00:00Z"))


@pytest.mark.parametrize(
    ("place", "lon", "lat", "east"),
    [
        ("Hasakah", 40.75, 36.50, True),
        ("Deir ez-Zor, left bank", 40.30, 35.45, True),
        ("Al-Bukamal, north-east", 41.10, 34.60, True),
        ("north of Tabqa", 38.60, 36.20, True),
        ("Deir ez-Zor, right bank", 40.05, 35.20, False),
        ("south of Raqqa", 39.00, 35.80, False),
        ("Palmyra", 38.27, 34.55, False),
        ("Hama", 36.75, 35.13, False),
        ("Homs", 36.72, 34.73, False),
        ("Manbij", 37.95, 36.53, False),
        ("Damascus", 36.29, 33.51, False),
        ("Aleppo", 37.16, 36.20, False),
    ],
)
def test_east_of_the_euphrates_line(place: str, lon: float, lat: float, east: bool) -> None:
    kinds = [f.kind for f in seen_by(check(late_notice(lon, lat)), "russia")]
    assert (kinds == ["zone_notice"]) is east, place


def test_a_volume_straddling_the_line_is_on_its_east_side() -> None:
    raqqa = late_notice(39.01, 35.95, r_nm=2.0)  # a vertex of the line
    (f,) = seen_by(check(raqqa), "russia")
    assert f.other == EUPHRATES
    assert f.overlap is not None
    assert 0.2 < f.overlap.area.area_km2 / (math.pi * (2.0 * 1.852) ** 2) < 0.8


def test_the_line_is_the_exact_boundary_and_point_order_does_not_matter() -> None:
    line = next(z for z in protocol().zones if z.id == EUPHRATES).line
    east = side_region(line, "east")
    west = side_region(line[::-1], "west")
    # 20 m either side of the middle of the Raqqa - Deir ez-Zor leg (geodesic).
    (lon1, lat1), (lon2, lat2) = line[3], line[4]
    g = geodesic_inverse([lat1], [lon1], [lat2], [lon2])
    mlat, mlon = destination([lat1], [lon1], g.bearing_deg, g.distance_m / 2.0)
    left_lat, left_lon = destination(mlat, mlon, g.bearing_deg - 90.0, [20.0])
    right_lat, right_lon = destination(mlat, mlon, g.bearing_deg + 90.0, [20.0])
    assert covers(east, left_lon, left_lat).tolist() == [True]  # north-east bank
    assert covers(east, right_lon, right_lat).tolist() == [False]
    assert covers(west, right_lon, right_lat).tolist() == [True]
    assert covers(west, left_lon, left_lat).tolist() == [False]
    assert covers(side_region(line[::-1], "east"), left_lon, left_lat).tolist() == [True]


def zone_protocol(*zones: Zone) -> Protocol:
    return dataclasses.replace(protocol(), zones=zones)


def test_a_line_has_no_side_along_its_own_direction() -> None:
    eastward = Zone(
        "parallel", "A line running east", "line", ZoneRules(notice_hours=24.0, side="east"),
        line=((36.0, 35.0), (40.0, 35.2)),
    )  # fmt: skip
    with pytest.raises(InputError, match="runs east; it has no east side") as err:
        check(late_notice(38.0, 36.0), p=zone_protocol(eastward))
    assert err.value.field == "zones[0].rules.side"
    north = dataclasses.replace(eastward, rules=ZoneRules(notice_hours=24.0, side="north"))
    (f,) = check(late_notice(38.0, 36.0), p=zone_protocol(north))
    assert f.kind == "zone_notice"
    assert check(late_notice(38.0, 34.0), p=zone_protocol(north)) == ()


def test_a_line_across_the_antimeridian_has_sides() -> None:
    dateline = Zone(
        "dateline", "Across 180", "line", ZoneRules(closed_to=("russia",), side="north"),
        line=((178.0, 10.0), (-178.0, 10.5)),
    )  # fmt: skip
    p = zone_protocol(dateline)
    (f,) = check(late_notice(179.9, 11.0), p=p)
    assert f.kind == "zone_closed"
    assert check(late_notice(-179.9, 9.5), p=p) == ()


# ---------------------------------------------------------------- area zones


def test_tanf_asks_notice_of_everyone_but_its_owner_and_tells_the_owner() -> None:
    tanf = volume(circle(38.66, 33.49, 5.0))
    late = t("2015-10-10T08:00:00Z")
    ru = check(notice("russia", tanf, filed_s=late))
    (mine,) = seen_by(ru, "russia")
    assert (mine.kind, mine.other) == ("zone_notice", "tanf")
    (owner,) = seen_by(ru, "coalition")
    assert (owner.id, owner.other, owner.subject.type) == (mine.id, "russia", "zone")
    assert check(notice("coalition", tanf, filed_s=late)) == ()


def test_a_zone_closed_to_a_party() -> None:
    closed = Zone(
        "no-fly", "Closed to russia", "area", ZoneRules(closed_to=("russia",)),
        area=Circle(35.0, 37.0, 20.0),
    )  # fmt: skip
    p = zone_protocol(closed)
    inside = volume(circle(37.1, 35.0, 5.0))
    (f,) = check(notice("russia", inside), p=p)
    assert (f.kind, f.other, f.reader) == ("zone_closed", "no-fly", "russia")
    assert check(notice("coalition", inside), p=p) == ()
    assert check(notice("russia", volume(circle(38.0, 35.0, 5.0))), p=p) == ()


# ---------------------------------------------------------------- what is checked


def test_own_party_ended_cancelled_and_self_are_skipped() -> None:
    v = volume(circle(36.0, 35.0, 10.0))
    mine = notice("russia", v)
    assert check(mine, [mine]) == ()
    assert check(mine, [notice("russia", v, nid="other")]) == ()
    assert check(mine, [ProtectedArea("russia", "own", "friendly_forces", v)]) == ()
    for state in ("ended", "cancelled"):
        assert check(mine, [notice("coalition", v, state=state)]) == ()
        assert check(notice("russia", v, state=state), [notice("coalition", v)]) == ()
    assert len(check(mine, [notice("coalition", v, state="active")])) == 2


def test_a_notice_of_a_stranger_is_refused() -> None:
    with pytest.raises(InputError, match="not a party") as err:
        check(notice("stranger", volume(circle(36.0, 35.0, 10.0))))
    assert err.value.field == "party"


def test_candidates_narrow_the_others() -> None:
    v = volume(circle(36.0, 35.0, 10.0))
    mine = notice("russia", v)
    theirs = notice("coalition", v)
    asked: list[Volume4D] = []

    def index(vol: Volume4D) -> list[Any]:
        asked.append(vol)
        return [theirs]

    p = without_zones()
    got = check_notice(mine, p, candidates=index, now_s=0.0)
    assert asked == [v]
    assert got == check_notice(mine, p, notices=[theirs], now_s=0.0)
    assert check_notice(mine, p, candidates=lambda _v: [], now_s=0.0) == ()
    with pytest.raises(ValueError, match="either candidates"):
        check_notice(mine, p, notices=[theirs], candidates=index, now_s=0.0)


def test_one_finding_per_pair_of_volumes() -> None:
    a = volume(circle(36.0, 35.0, 10.0))
    b = volume(circle(36.5, 35.0, 10.0))
    far = volume(circle(40.0, 35.0, 10.0))
    findings = check(notice("russia", a, far, b), [notice("coalition", far, a)])
    mine = seen_by(findings, "russia")
    assert sorted((f.subject.volume, f.kind) for f in mine) == [
        (0, "notice_conflict"),
        (1, "notice_conflict"),
        (2, "notice_conflict"),
    ]
    assert len({f.id for f in mine}) == 3
    assert sorted(f.subject.volume for f in seen_by(findings, "coalition")) == [0, 1, 1]


# ---------------------------------------------------------------- time edges


@pytest.mark.parametrize(
    ("gap_min", "time_min", "conflict"),
    [(0, 0.0, False), (0, 15.0, True), (10, 15.0, True), (15, 15.0, False), (20, 15.0, False)],
)
def test_time_window_edges(gap_min: int, time_min: float, conflict: bool) -> None:
    a = volume(circle(36.0, 35.0, 10.0), end="2015-10-10T10:00:00Z")
    start = t("2015-10-10T10:00:00Z") + gap_min * 60.0
    b = Volume4D(a.area, a.band, dataclasses.replace(a.window, start_s=start, end_s=start + 3600))
    found = check(
        notice("russia", a), [notice("coalition", b)], p=with_buffers(5.0, 1000.0, time_min)
    )
    assert bool(found) is conflict
    if conflict and gap_min == 0:
        o = found[0].overlap
        assert o is not None
        half = time_min * 30.0
        assert (o.start_s, o.end_s) == (start - half, start + half)


# ---------------------------------------------------------------- anywhere on Earth


def test_the_antimeridian_box_is_20_degrees_wide() -> None:
    box = {"type": "Polygon", "coordinates": [[[170, 0], [-170, 0], [-170, 1], [170, 1]]]}
    big = Volume4D.from_dict(
        {"area": box, "lower": 0, "upper": "FL300", "start": "2015-10-10T09:00:00Z",
         "end": "2015-10-10T11:00:00Z"}
    )  # fmt: skip
    mine = notice("russia", big)
    at_180 = notice("coalition", volume(circle(180.0, 0.5, 10.0)))
    at_0 = notice("coalition", volume(circle(0.0, 0.5, 10.0)))
    assert check(mine, [at_0]) == ()
    (f, _) = check(mine, [at_180])
    assert f.overlap is not None
    pts = positions(f.overlap.area.to_geojson())
    assert all(-180.0 <= lon <= 180.0 for lon, _ in pts)
    assert {lon > 0 for lon, _ in pts} == {True, False}  # split at the antimeridian
    assert_within(f.overlap.area.to_geojson(), at_180.volumes[0].area, 2.5 + 0.01)


def test_a_polar_cap_notice() -> None:
    ring = tuple((float(lon), 88.5) for lon in range(-180, 180, 45))
    cap = notice("russia", Volume4D(Polygon(ring), *band_and_window()))
    at_pole = notice("coalition", volume(circle(0.0, 90.0, 5.0)))
    (f, g) = check(cap, [at_pole])
    assert f.overlap is not None
    assert f.overlap.area.area_km2 == pytest.approx(math.pi * ((5.0 + 2.5) * 1.852) ** 2, rel=0.01)
    assert g.reader == "coalition"
    assert check(cap, [notice("coalition", volume(circle(0.0, 85.0, 5.0)))]) == ()
    assert len(check(cap, [notice("coalition", volume(circle(123.0, 88.7, 5.0)))])) == 2
    assert check(cap, [notice("coalition", volume(circle(123.0, 88.0, 5.0)))]) == ()


# ---------------------------------------------------------------- disclosure

# An odd polygon of coalition's that only partly overlaps russia's circle: its vertices
# outside the overlap must appear in no finding.
THEIR_RING = ((36.31234567, 34.81234567), (37.21234567, 34.71234567),
              (37.31234567, 35.61234567), (36.51234567, 35.41234567))  # fmt: skip


def their_volume() -> Volume4D:
    return Volume4D(Polygon(THEIR_RING), *band_and_window())


def numbers_in(obj: Any) -> set[float]:
    if isinstance(obj, dict):
        return set().union(*(numbers_in(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*(numbers_in(v) for v in obj)) if obj else set()
    return {float(obj)} if isinstance(obj, int | float) and not isinstance(obj, bool) else set()


@pytest.mark.parametrize("volumes", ["conflicts_only", "all"])
def test_a_finding_shows_only_the_overlap_unless_volumes_are_shared(volumes: str) -> None:
    p = without_zones()
    p = dataclasses.replace(p, sharing=dataclasses.replace(p.sharing, volumes=volumes))
    mine = notice("russia", volume(circle(36.3, 34.8, 8.0)))
    theirs = notice("coalition", their_volume())
    (f, g) = check(mine, [theirs], p=p)
    assert (f.reader, g.reader) == ("russia", "coalition")
    assert f.overlap is not None
    assert_within(f.overlap.area.to_geojson(), theirs.volumes[0].area, 2.5 + 0.01)
    assert_within(f.overlap.area.to_geojson(), mine.volumes[0].area, 2.5 + 0.01)
    outside = [v for v in THEIR_RING if not covers(buffered(mine.volumes[0].area, 2.5), *v)[0]]
    assert len(outside) == 3
    if volumes == "conflicts_only":
        numbers = numbers_in(f.to_dict())
        assert not any(lon in numbers or lat in numbers for lon, lat in outside)
        assert "other_volume" not in f.to_dict()
        assert f.other_volume is None
        assert g.other_volume is None
    else:
        assert f.other_volume == theirs.volumes[0]
        assert g.other_volume == mine.volumes[0]


@pytest.mark.parametrize("disclosure", ["owner_only", "on_conflict", "public", None])
def test_protected_areas_are_disclosed_per_their_rule(disclosure: str | None) -> None:
    p = without_zones()  # its default disclosure is on_conflict
    mine = notice("russia", volume(circle(36.3, 34.8, 8.0)))
    area = ProtectedArea("relief", "convoy", "humanitarian", their_volume(), disclosure)
    (f, g) = check(mine, [area], p=p)
    assert (f.reader, f.other) == ("russia", "a protected area of relief")
    assert (g.reader, g.other, g.overlap is not None) == ("relief", "russia", True)
    assert g.id == f.id
    shown = f.to_dict()
    assert "convoy" not in json.dumps(shown)
    if disclosure == "owner_only":
        assert f.overlap is None
        assert shown["overlap"] is None
        assert "protected_area_kind" not in shown
        assert numbers_in(shown) == {0.0, 1.0}  # the subject's version and volume index
        assert "nothing more" in g.detail
    else:
        assert f.overlap is not None
        assert f.area_kind == "humanitarian"
        assert_within(f.overlap.area.to_geojson(), area.volume.area, 2.5 + 0.01)
        assert (f.other_volume == area.volume) is (disclosure == "public")


# ---------------------------------------------------------------- finding ids


def test_finding_ids_are_stable_and_change_with_a_version() -> None:
    v1 = scenario("beat2-russia-raqqa-v1")
    coalition = scenario("beat2-coalition-raqqa")
    first = check(v1, [coalition])
    assert first == check(v1, [coalition])
    assert [f.id for f in first] == [f.id for f in check(v1, everything())]
    assert len(first[0].id) == 32
    assert first[0].id == first[1].id
    bumped = dataclasses.replace(coalition, version=2)
    assert {f.id for f in check(v1, [bumped])}.isdisjoint({f.id for f in first})
    later = dataclasses.replace(v1, filed_s=(v1.filed_s or 0.0) + 60.0)
    assert [f.id for f in check(later, [coalition])] == [f.id for f in first]


# ---------------------------------------------------------------- properties


def pair_of_notices(a: Volume4D, b: Volume4D) -> tuple[OperationNotice, OperationNotice]:
    return notice("russia", a, nid="a"), notice("coalition", b, nid="b")


def same_overlap(f: Finding) -> tuple[Any, ...]:
    """The overlap, whichever vertex its rings start at.

    A vertex at a pole is one point whatever its longitude: it is compared as (0, +-90).
    """
    assert f.overlap is not None
    o = f.overlap
    where = frozenset(
        (0.0 if abs(y) == 90.0 else round(x, 7), round(y, 7))
        for x, y in positions(o.area.to_geojson())
    )
    return (f.reader, o.lower_ft, o.upper_ft, o.start_s, o.end_s, round(o.area.area_km2, 6), where)


def key(findings: tuple[Finding, ...]) -> set[tuple[str, str, str, int]]:
    return {(f.id, f.reader, f.other, f.subject.volume) for f in findings}


@settings(max_examples=40)
@given(volume_pairs())
def test_conflicts_are_symmetric(pair: tuple[Any, Any]) -> None:
    a, b = pair_of_notices(*pair)
    p = without_zones()
    ab = check(a, [b], p=p)
    ba = check(b, [a], p=p)
    assert key(ab) == key(ba)
    assert sorted(map(same_overlap, ab)) == sorted(map(same_overlap, ba))


@settings(max_examples=25)
@given(volume_pairs())
def test_a_notice_never_conflicts_with_itself_or_its_party(pair: tuple[Any, Any]) -> None:
    a, _ = pair_of_notices(*pair)
    same_party = notice("russia", pair[1], nid="b")
    assert check(a, [a, same_party], p=without_zones()) == ()


@settings(max_examples=40)
@given(
    volume_pairs(),
    st.tuples(st.floats(0.0, 20.0), st.floats(0.0, 3000.0), st.floats(0.0, 60.0)),
    st.tuples(st.floats(0.0, 20.0), st.floats(0.0, 3000.0), st.floats(0.0, 60.0)),
)
def test_a_larger_buffer_never_finds_fewer(
    pair: tuple[Any, Any], small: tuple[float, float, float], extra: tuple[float, float, float]
) -> None:
    a, b = pair_of_notices(*pair)
    large = tuple(s + e for s, e in zip(small, extra, strict=True))
    found_small = key(check(a, [b], p=with_buffers(*small)))
    found_large = key(check(a, [b], p=with_buffers(*large)))
    assert found_small <= found_large
