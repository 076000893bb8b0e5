"""Conflicts as the domain reports them: ids, units, the vertical rule, staleness, parties."""

from __future__ import annotations

import numpy as np
import pytest

from skyparley.domain import (
    AircraftStates,
    SeparationMinima,
    TrackTable,
    detect_conflicts,
    iter_conflicts,
    iter_snapshots,
    step_times,
)
from skyparley.errors import InputError
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import destination


def states(rows: list[tuple], party: list[str] | None = None) -> AircraftStates:
    """rows: (id, time_s, lat, lon, alt_ft, gs_kt, trk_deg, vs_fpm)."""
    cols = list(zip(*rows, strict=True))
    return AircraftStates(
        id=list(cols[0]),
        party=party,
        time_s=cols[1],
        lat_deg=cols[2],
        lon_deg=cols[3],
        alt_ft=cols[4],
        gs_kt=cols[5],
        trk_deg=cols[6],
        vs_fpm=cols[7],
    )


def east_of(lat: float, lon: float, nm: float) -> tuple[float, float]:
    la, lo = destination(lat, lon, 90.0, nm * NM_M)
    return float(la[()]), float(lo[()])


def test_pairs_are_reported_once_with_a_before_b() -> None:
    lat, lon = east_of(35.0, 38.0, 10.0)
    s = states([("ZULU", 0.0, 35.0, 38.0, 30000, 450, 90, 0),
                ("ALFA", 0.0, lat, lon, 30000, 450, 270, 0)])  # fmt: skip
    c = detect_conflicts(s)
    assert c.pairs() == {("ALFA", "ZULU")}
    assert c.tcpa_s[0] == pytest.approx(10 / 900 * 3600, rel=1e-3)


@pytest.mark.parametrize(
    ("dalt_ft", "tolerance_ft", "conflict"),
    [
        (975.0, 100.0, False),  # adjacent flight levels read 25 ft short: separated
        (900.0, 100.0, False),  # exactly vsep - tolerance: separated
        (875.0, 100.0, True),  # a real intrusion of 125 ft
        (975.0, 0.0, True),  # the bare rule counts 975 < 1000
        (500.0, 100.0, True),
    ],
)
def test_the_altitude_tolerance_rule(dalt_ft: float, tolerance_ft: float, conflict: bool) -> None:
    lat, lon = east_of(35.0, 38.0, 2.0)
    s = states([("A", 0.0, 35.0, 38.0, 30000, 450, 0, 0),
                ("B", 0.0, lat, lon, 30000 + dalt_ft, 450, 0, 0)])  # fmt: skip
    minima = SeparationMinima(alt_tolerance_ft=tolerance_ft)
    assert (len(detect_conflicts(s, minima)) == 1) is conflict


def test_cross_party_only_skips_own_formation() -> None:
    lat, lon = east_of(35.0, 38.0, 1.0)
    lat2, lon2 = east_of(35.0, 38.0, 3.0)
    s = states(
        [("C1", 0.0, 35.0, 38.0, 25000, 440, 0, 0), ("C2", 0.0, lat, lon, 25000, 440, 0, 0),
         ("R1", 0.0, lat2, lon2, 25500, 460, 180, 0)],
        party=["coalition", "coalition", "russia"],
    )  # fmt: skip
    assert detect_conflicts(s).pairs() == {("C1", "C2"), ("C1", "R1"), ("C2", "R1")}
    assert detect_conflicts(s, cross_party_only=True).pairs() == {("C1", "R1"), ("C2", "R1")}


def test_cross_party_only_needs_parties() -> None:
    s = states([("A", 0.0, 35.0, 38.0, 30000, 450, 0, 0)])
    with pytest.raises(InputError) as err:
        detect_conflicts(s, cross_party_only=True)
    assert err.value.field == "party"


def test_states_are_propagated_to_the_detection_time() -> None:
    # B was last heard 20 s ago, 10 NM east, flying west at 450 kt: it is now 7.5 NM east.
    lat, lon = east_of(35.0, 38.0, 10.0)
    s = states([("A", 100.0, 35.0, 38.0, 30000, 0, 0, 0),
                ("B", 80.0, lat, lon, 30000, 450, 270, 0)])  # fmt: skip
    c = detect_conflicts(s, at_s=100.0)
    assert c.hdist_nm[0] == pytest.approx(7.5, abs=0.01)
    assert c.tcpa_s[0] == pytest.approx(60.0, abs=0.1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hsep_nm": 0.0}, "hsep_nm"),
        ({"vsep_ft": -1.0}, "vsep_ft"),
        ({"lookahead_s": float("nan")}, "lookahead_s"),
        ({"alt_tolerance_ft": 1000.0}, "alt_tolerance_ft"),
        ({"alt_tolerance_ft": -5.0}, "alt_tolerance_ft"),
    ],
)
def test_bad_minima_name_their_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InputError) as err:
        SeparationMinima(**kwargs)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (("A", 0.0, 95.0, 38.0, 30000, 450, 0, 0), "lat_deg"),
        (("A", 0.0, 35.0, 181.0, 30000, 450, 0, 0), "lon_deg"),
        (("A", 0.0, 35.0, 38.0, float("nan"), 450, 0, 0), "alt_ft"),
        (("A", 0.0, 35.0, 38.0, 30000, -1, 0, 0), "gs_kt"),
        (("A", 0.0, 35.0, 38.0, 30000, 450, 0, float("inf")), "vs_fpm"),
    ],
)
def test_bad_states_name_their_field(row: tuple, field: str) -> None:
    with pytest.raises(InputError) as err:
        states([row])
    assert err.value.field == field


def test_duplicate_ids_in_one_picture_are_refused() -> None:
    with pytest.raises(InputError, match="appears twice"):
        states([("A", 0.0, 35.0, 38.0, 30000, 450, 0, 0), ("A", 0.0, 35.1, 38.0, 30000, 450, 0, 0)])


def _table() -> TrackTable:
    # A reports at t = 0, 10, 20; B only at t = 5; C at t = 40.
    rows = [("A", 0.0), ("A", 10.0), ("B", 5.0), ("A", 20.0), ("C", 40.0)]
    return TrackTable(
        id=[r[0] for r in rows], party=None, time_s=[r[1] for r in rows],
        lat_deg=[35.0 + r[1] / 1000 for r in rows], lon_deg=[38.0] * 5, alt_ft=[30000.0] * 5,
        gs_kt=[400.0] * 5, trk_deg=[0.0] * 5, vs_fpm=[0.0] * 5,
    )  # fmt: skip


def test_snapshots_use_the_latest_report_no_older_than_stale() -> None:
    table = _table()
    assert list(table.time_s) == sorted(table.time_s)
    steps = np.array([0.0, 12.0, 36.0, 40.0])
    got = {
        t: (list(s.id), list(s.time_s)) for t, s in iter_snapshots(table, steps, stale_s=30.0)
    }  # fmt: skip
    assert got[0.0] == (["A"], [0.0])
    assert got[12.0] == (["A", "B"], [10.0, 5.0])
    assert got[36.0] == (["A"], [20.0])  # B (t=5) is 31 s old: stale
    assert got[40.0] == (["A", "C"], [20.0, 40.0])


def test_step_times_include_both_ends_and_refuse_nonsense() -> None:
    assert step_times(10.0, 12.0, 0.5).tolist() == [10.0, 10.5, 11.0, 11.5, 12.0]
    with pytest.raises(InputError):
        step_times(0.0, 10.0, 0.0)
    with pytest.raises(InputError):
        step_times(10.0, 0.0, 1.0)


def test_iter_conflicts_yields_a_step_per_time() -> None:
    table = _table()
    steps = list(iter_conflicts(table, step_times(0.0, 40.0, 10.0)))
    assert [c.t_s for _, c in steps] == [0.0, 10.0, 20.0, 30.0, 40.0]
