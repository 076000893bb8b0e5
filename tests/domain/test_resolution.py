"""Resolution advice as a duty officer reads it: which headings, vertical speeds and altitudes
keep own clear of its intruders, checked against the detection it is meant to clear."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import scene_centres, scenes

from skyparley.domain import AircraftStates, SeparationMinima, detect_conflicts
from skyparley.domain.resolution import Bands, resolution_advice
from skyparley.errors import InputError
from skyparley.geo.units import NM_M
from skyparley.geo.wgs84 import ecef_to_geodetic, enu_basis, geodetic_to_ecef

MINIMA = SeparationMinima()  # 5 NM, 1000 ft less 100 ft, 300 s


def picture(rows: list[tuple], time_s: list[float] | None = None) -> AircraftStates:
    """rows: (id, lat, lon, alt_ft, gs_kt, trk_deg, vs_fpm), all reported at time 0."""
    cols = list(zip(*rows, strict=True))
    return AircraftStates(
        id=list(cols[0]),
        party=None,
        time_s=time_s if time_s is not None else [0.0] * len(rows),
        lat_deg=cols[1],
        lon_deg=cols[2],
        alt_ft=cols[3],
        gs_kt=cols[4],
        trk_deg=cols[5],
        vs_fpm=cols[6],
    )


def place(
    centre: tuple[float, float], rot_deg: float, local: list[tuple]
) -> list[tuple[str, float, float, float, float, float, float]]:
    """Rows of a scene drawn in the tangent plane at ``centre``, turned by ``rot_deg``.

    ``local`` rows: (id, east_nm, north_nm, alt_ft, gs_kt, trk_deg, vs_fpm). Positions and
    velocity directions are placed as ECEF vectors, then read back as lat/lon and track at each
    aircraft, so the scene is the same wherever it lands (poles and antimeridian included).
    """
    basis = enu_basis(centre[0], centre[1])
    origin = geodetic_to_ecef(centre[0], centre[1], 0.0)
    rot = math.radians(rot_deg)
    rows = []
    for name, east, north, alt, gs, trk, vs in local:
        e = east * math.cos(rot) + north * math.sin(rot)
        n = -east * math.sin(rot) + north * math.cos(rot)
        point = origin + NM_M * (e * basis.east + n * basis.north)
        geo = ecef_to_geodetic(point)
        lat, lon = float(geo.lat_deg[()]), float(geo.lon_deg[()])
        t = math.radians(trk + rot_deg)
        direction = math.sin(t) * basis.east + math.cos(t) * basis.north
        here = enu_basis(lat, lon)
        track = math.degrees(
            math.atan2(float(direction @ here.east), float(direction @ here.north))
        )
        rows.append((name, lat, lon, alt, gs, track % 360.0, vs))
    return rows


def head_on(own_trk: float = 90.0, dalt_ft: float = 0.0) -> AircraftStates:
    """Own at FL300 and BAD 20 NM ahead, 450 kt each, meeting in 80 s."""
    return picture(
        place(
            (35.0, 38.0),
            own_trk,
            [
                ("OWN", 0.0, 0.0, 30000.0, 450.0, 0.0, 0.0),
                ("BAD", 0.0, 20.0, 30000.0 + dalt_ft, 450.0, 180.0, 0.0),
            ],
        )
    )


def headings_of(bands: Bands) -> np.ndarray:
    """Which whole degrees a heading band set holds, as a mask of 360."""
    return np.array([bands.contains(float(h)) for h in range(360)])


# ---------------------------------------------------------------- what the bands say


def test_head_on_flying_on_conflicts_and_turning_90_either_way_is_free() -> None:
    advice = resolution_advice(head_on(), "OWN", ["BAD"], MINIMA)
    h = advice.heading_deg
    assert h.current == pytest.approx(90.0)
    assert not h.current_free
    assert not h.contains(90.0)
    assert h.contains(0.0)
    assert h.contains(180.0)
    assert h.unit == "deg"
    assert h.step == 1.0


def test_a_band_through_north_is_one_pair_with_lo_above_hi() -> None:
    # Heading south into the intruder: the free headings run from south-west round through
    # north to south-east.
    h = resolution_advice(head_on(own_trk=180.0), "OWN", ["BAD"], MINIMA).heading_deg
    assert len(h.free) == 1
    lo, hi = h.free[0]
    assert lo > hi
    assert 180.0 < lo < 270.0
    assert 90.0 < hi < 180.0
    assert h.contains(0.0)
    assert h.contains(359.5)
    assert not h.contains(180.0)


def test_climbing_or_descending_away_is_free_level_flight_is_not() -> None:
    advice = resolution_advice(head_on(), "OWN", ["BAD"], MINIMA)
    vs = advice.vs_fpm
    assert vs.current == 0.0
    assert not vs.current_free
    assert not vs.contains(0.0)
    assert vs.contains(3000.0)
    assert vs.contains(-3000.0)
    assert vs.free[0][0] == -6000.0
    assert vs.free[-1][1] == 6000.0
    alt = advice.alt_ft
    assert alt.current == pytest.approx(30000.0)
    assert not alt.current_free
    assert not alt.contains(30000.0)
    assert alt.contains(34000.0)
    assert alt.contains(26000.0)


def test_the_climb_to_a_level_counts_not_only_the_level() -> None:
    # The intruder is 2000 ft above: staying is free, but climbing to FL360 at 2000 fpm
    # crosses its level while the two pass; at 6000 fpm own is through before they meet.
    states = head_on(dalt_ft=2000.0)
    slow = resolution_advice(states, "OWN", ["BAD"], MINIMA).alt_ft
    assert slow.current_free
    assert slow.contains(30000.0)
    assert not slow.contains(36000.0)
    fast = resolution_advice(states, "OWN", ["BAD"], MINIMA, climb_rate_fpm=6000.0).alt_ft
    assert fast.contains(36000.0)


def test_no_intruders_leaves_everything_free() -> None:
    advice = resolution_advice(head_on(), "OWN", [], MINIMA)
    assert advice.intruders == ()
    assert advice.heading_deg.free == ((0.0, 360.0),)
    assert advice.vs_fpm.free == ((-6000.0, 6000.0),)
    assert advice.alt_ft.free == ((0.0, 50000.0),)
    assert advice.heading_deg.current_free
    assert advice.vs_fpm.current_free
    assert advice.alt_ft.current_free


def test_in_loss_of_separation_no_manoeuvre_is_free() -> None:
    # 1 NM apart at the same level and already diverging: every manoeuvre starts inside the
    # protected zone, so every band is empty (no recovery bands yet; see the module notes).
    rows = place(
        (35.0, 38.0),
        0.0,
        [
            ("OWN", 0.0, 0.0, 30000.0, 450.0, 180.0, 0.0),
            ("BAD", 0.0, 1.0, 30200.0, 450.0, 0.0, 0.0),
        ],
    )
    states = picture(rows)
    assert bool(detect_conflicts(states, MINIMA).los[0])
    advice = resolution_advice(states, "OWN", ["BAD"], MINIMA)
    for bands in (advice.heading_deg, advice.vs_fpm, advice.alt_ft):
        assert bands.free == ()
        assert not bands.current_free


def test_the_intruders_order_does_not_matter() -> None:
    rows = place(
        (35.0, 38.0),
        0.0,
        [
            ("OWN", 0.0, 0.0, 30000.0, 450.0, 0.0, 0.0),
            ("BAD", 0.0, 20.0, 30000.0, 450.0, 180.0, 0.0),
            ("CRS", 8.0, 6.0, 30500.0, 420.0, 270.0, 0.0),
            ("CLB", -10.0, 3.0, 29000.0, 380.0, 100.0, 1500.0),
        ],
    )
    states = picture(rows)
    seen = {
        json.dumps(resolution_advice(states, "OWN", list(order), MINIMA).to_dict())
        for order in itertools.permutations(["BAD", "CRS", "CLB"])
    }
    assert len(seen) == 1
    assert json.loads(seen.pop())["intruders"] == ["BAD", "CLB", "CRS"]


def test_to_dict_names_each_band_set_by_its_unit() -> None:
    advice = resolution_advice(head_on(), "OWN", ["BAD"], MINIMA, at_s=0.0)
    d = json.loads(json.dumps(advice.to_dict()))
    assert set(d) == {"aircraft", "intruders", "at_s", "heading_deg", "vs_fpm", "alt_ft"}
    assert d["aircraft"] == "OWN"
    assert d["intruders"] == ["BAD"]
    assert d["at_s"] == 0.0
    assert d["heading_deg"]["current_free"] is False
    assert d["vs_fpm"]["free"] == [[-6000.0, -1000.0], [1000.0, 6000.0]]
    assert d["alt_ft"]["step"] == 500.0


def test_states_are_propagated_to_the_advice_time() -> None:
    # Reported 40 s before at_s, about 20 NM apart: at at_s about 10 NM.
    states = picture(
        [
            ("OWN", 35.0, 38.0, 30000.0, 450.0, 90.0, 0.0),
            ("BAD", 35.0, 38.4, 30000.0, 450.0, 270.0, 0.0),
        ],
        time_s=[-40.0, -40.0],
    )
    advice = resolution_advice(states, "OWN", ["BAD"], MINIMA, at_s=0.0)
    assert advice.at_s == 0.0
    assert advice.heading_deg.current == pytest.approx(90.0, abs=0.2)
    late = resolution_advice(states, "OWN", ["BAD"], MINIMA, at_s=-40.0)
    # Closer in, the turn needed is wider and the climb needed steeper.
    assert np.sum(headings_of(advice.heading_deg)) < np.sum(headings_of(late.heading_deg))
    assert not advice.vs_fpm.contains(1200.0)
    assert late.vs_fpm.contains(1200.0)


# ---------------------------------------------------------------- against detection


@st.composite
def encounters(draw: st.DrawFn) -> list[tuple]:
    """Own and one to three intruders heading for a near miss with it within the lookahead,
    anywhere on Earth: bands with edges to get right (the shared ``scenes`` mostly give all
    or nothing). Each intruder is placed where it reaches, at a drawn time, a point near own's
    position then."""
    centre = draw(scene_centres)
    alt = draw(st.floats(1000.0, 45000.0))

    def velocity() -> tuple[float, float, float]:
        vs = draw(st.just(0.0) | st.floats(-2000.0, 2000.0))
        return draw(st.floats(150.0, 550.0)), draw(st.floats(0.0, 360.0)), vs

    gs, trk, vs = velocity()
    local = [("A0", 0.0, 0.0, alt, gs, trk, vs)]
    for k in range(1, draw(st.integers(1, 3)) + 1):
        meet_h = draw(st.floats(20.0, 280.0)) / 3600.0
        miss = math.radians(draw(st.floats(0.0, 360.0)))
        miss_nm = draw(st.floats(0.0, 8.0))
        igs, itrk, ivs = velocity()
        t = math.radians(trk)
        it = math.radians(itrk)
        east = gs * math.sin(t) * meet_h + miss_nm * math.sin(miss) - igs * math.sin(it) * meet_h
        north = gs * math.cos(t) * meet_h + miss_nm * math.cos(miss) - igs * math.cos(it) * meet_h
        ialt = alt + vs * meet_h * 60.0 + draw(st.floats(-1500.0, 1500.0)) - ivs * meet_h * 60.0
        local.append((f"A{k}", east, north, min(max(ialt, 0.0), 50000.0), igs, itrk, ivs))
    return place(centre, 0.0, local)


def _scene_rows(scene: list) -> list[tuple]:
    """Rows of a drawn scene: ``encounters`` rows as they are, shared ``Ac`` ones converted."""
    if isinstance(scene[0], tuple):
        return scene
    return [
        (f"A{k}", a.lat_deg, a.lon_deg, a.alt_ft, a.gs_kt, a.trk_deg % 360.0, a.vs_fpm)
        for k, a in enumerate(scene)
    ]


def _own_copies(
    states: AircraftStates,
    own: int,
    *,
    trk_deg: np.ndarray | None = None,
    vs_fpm: np.ndarray | None = None,
) -> tuple[AircraftStates, int]:
    """Copies of own (one per manoeuvre) plus the intruders, each intruder its own party.

    Own's copies share a party, so cross-party detection reports each copy against each
    intruder and never the copies against one another.
    """
    varied = trk_deg if trk_deg is not None else vs_fpm
    assert varied is not None
    m = len(varied)
    others = [i for i in range(len(states)) if i != own]

    def col(name: str, values: np.ndarray | None) -> np.ndarray:
        column = getattr(states, name)
        mine = np.full(m, column[own]) if values is None else values
        return np.concatenate([mine, column[others]])

    copies = AircraftStates(
        id=[f"~{k:05d}" for k in range(m)] + [str(states.id[i]) for i in others],
        party=["own"] * m + [f"p{i}" for i in others],
        time_s=col("time_s", None),
        lat_deg=col("lat_deg", None),
        lon_deg=col("lon_deg", None),
        alt_ft=col("alt_ft", None),
        gs_kt=col("gs_kt", None),
        trk_deg=col("trk_deg", trk_deg),
        vs_fpm=col("vs_fpm", vs_fpm),
    )
    return copies, m


def _conflicting_copies(copies: AircraftStates, m: int, minima: SeparationMinima) -> np.ndarray:
    c = detect_conflicts(copies, minima, cross_party_only=True)
    hit = np.zeros(m, dtype=bool)
    for name in itertools.chain(c.a, c.b):
        if str(name).startswith("~"):  # a copy of own, "~index"
            hit[int(str(name)[1:])] = True
    return hit


def _mask(bands: Bands, values: np.ndarray) -> np.ndarray:
    return np.array([bands.contains(float(v)) for v in values])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    scene=encounters() | scenes(max_size=5),
    minima=st.builds(
        SeparationMinima,
        hsep_nm=st.sampled_from([0.5, 3.0, 5.0]),
        vsep_ft=st.sampled_from([500.0, 1000.0]),
        alt_tolerance_ft=st.just(100.0),
        lookahead_s=st.sampled_from([60.0, 300.0]),
    ),
)
def test_every_sampled_heading_and_vs_is_free_exactly_when_detection_says_so(
    scene: list, minima: SeparationMinima
) -> None:
    rows = _scene_rows(scene)
    states = picture(rows)
    intruders = [r[0] for r in rows[1:]]
    advice = resolution_advice(states, "A0", intruders, minima, heading_step_deg=2.0)

    headings = 2.0 * np.arange(180)
    copies, m = _own_copies(states, 0, trk_deg=headings)
    expected = ~_conflicting_copies(copies, m, minima)
    assert (_mask(advice.heading_deg, headings) == expected).all()

    vss = 100.0 * np.arange(-60, 61)
    copies, m = _own_copies(states, 0, vs_fpm=vss)
    expected = ~_conflicting_copies(copies, m, minima)
    assert (_mask(advice.vs_fpm, vss) == expected).all()

    own_hit = {"A0"} & {x for pair in detect_conflicts(states, minima).pairs() for x in pair}
    assert advice.heading_deg.current_free is not bool(own_hit)
    assert advice.vs_fpm.current_free is not bool(own_hit)


@settings(max_examples=30, deadline=None)
@given(scene=encounters() | scenes(max_size=4), data=st.data())
def test_altitude_bands_agree_with_detection_of_each_piece(
    scene: list, data: st.DataObject
) -> None:
    """A free target's climb piece is clear; a target whose climb piece and level flight at
    the target (from now: a longer window than the level piece's) are both clear is free."""
    rows = _scene_rows(scene)
    states = picture(rows)
    rate = data.draw(st.sampled_from([1000.0, 2000.0, 4000.0]))
    advice = resolution_advice(
        states, "A0", [r[0] for r in rows[1:]], MINIMA, alt_step_ft=2500.0, climb_rate_fpm=rate
    )
    alt0 = float(states.alt_ft[0])
    for target in 2500.0 * np.arange(21):
        reach = abs(target - alt0) / rate * 60.0
        climb_clear = True
        if reach > 0.0:
            vs = math.copysign(rate, target - alt0)
            piece = SeparationMinima(lookahead_s=min(reach, MINIMA.lookahead_s))
            copies, m = _own_copies(states, 0, vs_fpm=np.array([vs]))
            climb_clear = not _conflicting_copies(copies, m, piece)[0]
        level = picture([(rows[0][0], *rows[0][1:3], target, *rows[0][4:6], 0.0), *rows[1:]])
        level_clear = "A0" not in {x for p in detect_conflicts(level, MINIMA).pairs() for x in p}
        free = advice.alt_ft.contains(float(target))
        if free:
            assert climb_clear
        if climb_clear and level_clear:
            assert free
        if reach == 0.0:
            assert free is level_clear


# ---------------------------------------------------------------- anywhere on Earth

SCENE = [
    ("OWN", 0.0, 0.0, 30000.0, 450.0, 0.0, 0.0),
    ("BAD", 0.0, 18.0, 30000.0, 450.0, 180.0, 0.0),
    ("CRS", 9.0, 5.0, 30400.0, 420.0, 270.0, 0.0),
    ("CLB", -10.0, 3.0, 28500.0, 380.0, 100.0, 1500.0),
]
CENTRES = [(35.0, 38.0), (0.0, 179.97), (-12.0, -179.99), (89.95, 20.0), (-89.9, -150.0)]


def test_bands_turn_with_the_scene_across_the_antimeridian_and_near_the_poles() -> None:
    ref = resolution_advice(picture(place((35.0, 38.0), 0.0, SCENE)), "OWN", ["BAD", "CRS", "CLB"])
    ref_mask = headings_of(ref.heading_deg)
    assert 0 < ref_mask.sum() < 360  # a scene with something to show
    widths = []
    for centre, rot in itertools.product(CENTRES, [0, 37, 90, 200, 333]):
        states = picture(place(centre, float(rot), SCENE))
        advice = resolution_advice(states, "OWN", ["BAD", "CRS", "CLB"])
        assert advice.heading_deg.current == pytest.approx(rot, abs=1e-6)
        mask = headings_of(advice.heading_deg)
        # The same free headings, turned with the scene (an edge sample may flip).
        assert (mask != np.roll(ref_mask, rot)).sum() <= 2, (centre, rot)
        assert len(advice.heading_deg.free) == len(ref.heading_deg.free)
        assert advice.vs_fpm.free == ref.vs_fpm.free, (centre, rot)
        assert advice.alt_ft.free == ref.alt_ft.free, (centre, rot)
        widths.append(int(mask.sum()))
    assert max(widths) - min(widths) <= 2


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("own", "intruders", "field"),
    [
        ("NOPE", ["BAD"], "own"),
        ("OWN", ["NOPE"], "intruders"),
        ("OWN", ["OWN", "BAD"], "intruders"),
        ("OWN", ["BAD", "BAD"], "intruders"),
        ("OWN", "BAD", "intruders"),
    ],
)
def test_unknown_or_misplaced_ids_are_named(own: str, intruders: list[str], field: str) -> None:
    with pytest.raises(InputError) as err:
        resolution_advice(head_on(), own, intruders, MINIMA)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("heading_step_deg", 0.0),
        ("heading_step_deg", -1.0),
        ("heading_step_deg", math.nan),
        ("heading_step_deg", 1e-6),  # 360 million samples
        ("vs_step_fpm", 0.0),
        ("vs_max_fpm", -100.0),
        ("alt_step_ft", -500.0),
        ("alt_min_ft", math.inf),
        ("alt_max_ft", -1000.0),  # below alt_min_ft
        ("climb_rate_fpm", 0.0),
        ("climb_rate_fpm", "2000"),  # a string, not a number
        ("at_s", math.nan),
    ],
)
def test_bad_options_are_named(option: str, value: float) -> None:
    with pytest.raises(InputError) as err:
        resolution_advice(head_on(), "OWN", ["BAD"], MINIMA, **{option: value})
    assert err.value.field == option
