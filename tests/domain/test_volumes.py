"""4D volumes: JSON form, limits, flight levels, time edges and buffered 4D overlaps."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import volume_pairs

from skyparley.domain.times import parse_time
from skyparley.domain.volumes import (
    AltitudeBand,
    TimeWindow,
    Volume4D,
    VolumeLimits,
    overlap_4d,
    parse_altitude_ft,
)
from skyparley.errors import InputError
from skyparley.geo.areas import AreaLimits, Circle, area_km2, buffered, covers

T0 = "2015-10-10T09:00:00Z"
T1 = "2015-10-10T11:00:00Z"


def vol_dict(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "area": {"type": "Circle", "center": [36.2, 35.4], "radius_nm": 10},
        "lower": "FL100",
        "upper": 25000,
        "start": T0,
        "end": T1,
    }
    base.update(over)
    return base


def vol(**over: Any) -> Volume4D:
    return Volume4D.from_dict(vol_dict(**over))


# ---------------------------------------------------------------- altitudes


@pytest.mark.parametrize(
    ("text", "ft"),
    [("FL150", 15000.0), ("fl150", 15000.0), ("FL 150", 15000.0), ("FL050", 5000.0),
     ("FL5", 500.0), (" FL600 ", 60000.0), (0, 0.0), (-1200, -1200.0), (9999.5, 9999.5)],
)  # fmt: skip
def test_flight_levels_and_feet(text: object, ft: float) -> None:
    assert parse_altitude_ft(text, field="lower") == ft


@pytest.mark.parametrize("bad", ["FL1500", "FL", "15000", "15000 ft", "A150", True, None,
                                 float("nan"), float("inf"), [150]])  # fmt: skip
def test_bad_altitudes_name_the_field(bad: object) -> None:
    with pytest.raises(InputError) as err:
        Volume4D.from_dict(vol_dict(upper=bad), field="volumes[1]")
    assert err.value.field == "volumes[1].upper"


def test_band_must_go_up_and_stay_in_range() -> None:
    with pytest.raises(InputError, match="not above the lower") as err:
        Volume4D.from_dict(vol_dict(lower="FL250", upper="FL150"), field="volumes[0]")
    assert err.value.field == "volumes[0].upper"
    with pytest.raises(InputError, match="not above the lower"):
        AltitudeBand(1000.0, 1000.0)
    with pytest.raises(InputError, match="outside") as err:
        Volume4D.from_dict(vol_dict(lower=-5000), field="v")
    assert err.value.field == "v.lower"
    with pytest.raises(InputError, match="outside"):
        AltitudeBand(0.0, 150_000.0)


# ---------------------------------------------------------------- time windows


def test_window_length_limit_default_and_parameter() -> None:
    eight_days = vol_dict(end="2015-10-18T09:00:00Z")
    with pytest.raises(InputError, match="lasts 8 days; at most 7 days") as err:
        Volume4D.from_dict(eight_days, field="volumes[0]")
    assert err.value.field == "volumes[0].end"
    limits = VolumeLimits(max_window_s=10 * 86400.0)
    assert Volume4D.from_dict(eight_days, limits=limits).window.end_s == parse_time(
        "2015-10-18T09:00:00Z", field="end"
    )
    assert vol(end="2015-10-17T09:00:00Z") is not None  # exactly 7 days


def test_window_must_end_after_it_starts() -> None:
    with pytest.raises(InputError, match="not after the start") as err:
        Volume4D.from_dict(vol_dict(end=T0), field="v")
    assert err.value.field == "v.end"
    with pytest.raises(InputError) as err:
        Volume4D.from_dict(vol_dict(start="tomorrow"), field="v")
    assert err.value.field == "v.start"


# ---------------------------------------------------------------- JSON form


def test_round_trip() -> None:
    v = vol()
    assert Volume4D.from_dict(v.to_dict()) == v
    assert v.to_dict() == {
        "area": {"type": "Circle", "center": [36.2, 35.4], "radius_nm": 10.0},
        "lower": 10000.0,
        "upper": 25000.0,
        "start": T0,
        "end": T1,
    }


@pytest.mark.parametrize("extra", ["target", "weapon", "purpose", "lower_ft"])
def test_extra_fields_are_rejected_by_name(extra: str) -> None:
    with pytest.raises(InputError, match="is not a field of a volume") as err:
        Volume4D.from_dict({**vol_dict(), extra: "x"}, field="notice.volumes[2]")
    assert err.value.field == f"notice.volumes[2].{extra}"


def test_several_extra_fields_are_all_named() -> None:
    with pytest.raises(InputError) as err:
        Volume4D.from_dict({**vol_dict(), "weapon": 1, "target": 2}, field="v")
    assert err.value.field == "v.target"
    assert "weapon" in err.value.reason


def test_missing_field_and_nested_area_errors() -> None:
    obj = vol_dict()
    del obj["start"]
    with pytest.raises(InputError, match="is missing") as err:
        Volume4D.from_dict(obj, field="v")
    assert err.value.field == "v.start"
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1]]]}
    with pytest.raises(InputError, match="crosses itself") as err:
        Volume4D.from_dict(vol_dict(area=bowtie), field="volumes[0]")
    assert err.value.field == "volumes[0].area.coordinates"
    big = {"type": "Circle", "center": [0, 0], "radius_nm": 200}
    with pytest.raises(InputError, match="at most 250,000 km²") as err:
        Volume4D.from_dict(vol_dict(area=big), field="volumes[0]")
    assert err.value.field == "volumes[0].area.radius_nm"
    raised = VolumeLimits(area=AreaLimits(max_area_km2=1e6))
    assert Volume4D.from_dict(vol_dict(area=big), limits=raised) is not None
    with pytest.raises(InputError, match="must be an object"):
        Volume4D.from_dict([1, 2], field="v")


# ---------------------------------------------------------------- 4D overlap


def test_touching_windows_overlap_only_with_a_time_buffer() -> None:
    a = vol(end="2015-10-10T10:00:00Z")
    b = vol(start="2015-10-10T10:00:00Z")
    assert overlap_4d(a, b, lateral_nm=0.0, vertical_ft=0.0, time_min=0.0) is None
    o = overlap_4d(a, b, lateral_nm=0.0, vertical_ft=0.0, time_min=10.0)
    assert o is not None
    assert (o.start_s, o.end_s) == (
        parse_time("2015-10-10T09:55:00Z", field="t"),
        parse_time("2015-10-10T10:05:00Z", field="t"),
    )


def test_window_gap_equal_to_the_buffer_is_clear() -> None:
    a = vol(end="2015-10-10T10:00:00Z")
    b = vol(start="2015-10-10T10:10:00Z")
    assert overlap_4d(a, b, lateral_nm=0.0, vertical_ft=0.0, time_min=10.0) is None
    assert overlap_4d(a, b, lateral_nm=0.0, vertical_ft=0.0, time_min=10.5) is not None


def test_touching_bands_overlap_only_with_a_vertical_buffer() -> None:
    a = vol(lower=0, upper="FL100")
    b = vol(lower="FL100", upper="FL200")
    assert overlap_4d(a, b, lateral_nm=0.0, vertical_ft=0.0, time_min=0.0) is None
    o = overlap_4d(a, b, lateral_nm=0.0, vertical_ft=1000.0, time_min=0.0)
    assert o is not None
    assert (o.lower_ft, o.upper_ft) == (9500.0, 10500.0)


def test_all_three_must_overlap() -> None:
    a = vol()
    far = vol(area={"type": "Circle", "center": [38.0, 35.4], "radius_nm": 10})
    assert overlap_4d(a, far, lateral_nm=5.0, vertical_ft=1000.0, time_min=10.0) is None
    later = vol(start="2015-10-10T12:00:00Z", end="2015-10-10T13:00:00Z")
    assert overlap_4d(a, later, lateral_nm=5.0, vertical_ft=1000.0, time_min=10.0) is None
    above = vol(lower="FL300", upper="FL400")
    assert overlap_4d(a, above, lateral_nm=5.0, vertical_ft=1000.0, time_min=10.0) is None


@pytest.mark.parametrize("name", ["lateral_nm", "vertical_ft", "time_min"])
def test_negative_buffers_are_refused(name: str) -> None:
    kw = {"lateral_nm": 1.0, "vertical_ft": 1.0, "time_min": 1.0, name: -1.0}
    with pytest.raises(InputError) as err:
        overlap_4d(vol(), vol(), **kw)
    assert err.value.field == name


def test_overlap_discloses_only_the_common_part() -> None:
    mine = vol(area={"type": "Circle", "center": [36.0, 35.0], "radius_nm": 20})
    theirs = Volume4D(
        Circle(35.0, 36.65, 20.0), AltitudeBand(20_000.0, 40_000.0), TimeWindow(
            parse_time("2015-10-10T10:30:00Z", field="t"),
            parse_time("2015-10-10T20:00:00Z", field="t")
        ),
    )  # fmt: skip
    o = overlap_4d(mine, theirs, lateral_nm=5.0, vertical_ft=1000.0, time_min=30.0)
    assert o is not None
    d = o.to_dict()
    assert set(d) == {"area", "area_km2", "lower", "upper", "start", "end"}
    assert (d["lower"], d["upper"]) == (19_500.0, 25_500.0)
    assert (d["start"], d["end"]) == ("2015-10-10T10:15:00Z", "2015-10-10T11:15:00Z")
    assert d["area"]["type"] == "Polygon"
    # Far less than their 20 NM circle; all of it within 2.5 NM (half the buffer) of theirs.
    assert o.area.area_km2 < 0.5 * area_km2(theirs.area)
    ring = d["area"]["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert covers(buffered(theirs.area, 2.5 + 0.05), lons, lats).all()
    assert not covers(theirs.area, lons, lats).all()


# ---------------------------------------------------------------- properties

BUFFERS = st.tuples(
    st.sampled_from([0.0, 1.0, 5.0]), st.sampled_from([0.0, 500.0]), st.sampled_from([0.0, 5.0])
)


@settings(max_examples=40)
@given(pair=volume_pairs(), buffers=BUFFERS)
def test_overlap_4d_is_symmetric(pair: tuple[Volume4D, Volume4D], buffers: Any) -> None:
    a, b = pair
    kw = dict(zip(("lateral_nm", "vertical_ft", "time_min"), buffers, strict=True))
    ab, ba = overlap_4d(a, b, **kw), overlap_4d(b, a, **kw)
    assert (ab is None) == (ba is None)
    if ab is not None and ba is not None:
        assert (ab.lower_ft, ab.upper_ft, ab.start_s, ab.end_s) == (
            ba.lower_ft, ba.upper_ft, ba.start_s, ba.end_s
        )  # fmt: skip
        assert ab.area.area_km2 == pytest.approx(ba.area.area_km2, rel=1e-6)


@settings(max_examples=40)
@given(pair=volume_pairs(), buffers=BUFFERS)
def test_a_volume_always_overlaps_itself(pair: tuple[Volume4D, Volume4D], buffers: Any) -> None:
    a, _ = pair
    kw = dict(zip(("lateral_nm", "vertical_ft", "time_min"), buffers, strict=True))
    o = overlap_4d(a, a, **kw)
    assert o is not None
    assert o.lower_ft <= a.band.lower_ft
    assert o.upper_ft >= a.band.upper_ft
    assert o.area.area_km2 >= area_km2(a.area) * (1 - 1e-4)


@settings(max_examples=40)
@given(pair=volume_pairs(), small=BUFFERS, grow=BUFFERS)
def test_larger_buffers_never_find_fewer_overlaps(
    pair: tuple[Volume4D, Volume4D], small: Any, grow: Any
) -> None:
    a, b = pair
    names = ("lateral_nm", "vertical_ft", "time_min")
    lo = dict(zip(names, small, strict=True))
    hi = {n: lo[n] + g for n, g in zip(names, grow, strict=True)}
    o_lo, o_hi = overlap_4d(a, b, **lo), overlap_4d(a, b, **hi)
    if o_lo is not None:
        assert o_hi is not None
        assert o_hi.area.area_km2 >= o_lo.area.area_km2 * (1 - 1e-9)
        assert o_hi.lower_ft <= o_lo.lower_ft
        assert o_hi.upper_ft >= o_lo.upper_ft
        assert o_hi.start_s <= o_lo.start_s
        assert o_hi.end_s >= o_lo.end_s
